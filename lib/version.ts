/** The collector's version, shown by `--version`, in alerts and on the status page. */
export const VERSION = "0.4.0";
