/**
 * Static files served with the status page: the vendored chart libraries (see `vendor/README.md`), embedded
 * with text imports so the page works offline and from the compiled binary. Names carry the version, so the
 * browser may keep them for a year.
 * @module
 */

import chartJs from "./vendor/chart.umd.min.js" with { type: "text" };
import chartMatrix from "./vendor/chartjs-chart-matrix.min.js" with { type: "text" };

/** One served file. */
export interface Asset {
  /** URL path. */
  path: string;
  body: string;
  contentType: string;
  /** SHA-256 (hex) of the file as copied from npm. */
  sha256: string;
  /** Where it comes from, `package@version/path`. */
  from: string;
}

/** Every asset, in the order the page loads them. */
export const ASSETS: readonly Asset[] = [
  {
    path: "/assets/chart-4.6.1.min.js",
    body: chartJs,
    contentType: "text/javascript; charset=utf-8",
    sha256: "87364cc2b2a76a6684929e7d6b80b18a897794db38400caff1fcf1791c6925d2",
    from: "chart.js@4.6.1/dist/chart.umd.min.js",
  },
  {
    path: "/assets/chartjs-chart-matrix-3.1.0.min.js",
    body: chartMatrix,
    contentType: "text/javascript; charset=utf-8",
    sha256: "7e0cafdcfed5636319fb779f209230d38b6a3703b4b5f462ecb501fc6008f661",
    from: "chartjs-chart-matrix@3.1.0/dist/chartjs-chart-matrix.min.js",
  },
];

const byPath = new Map(ASSETS.map((a) => [a.path, a]));

/** The asset served at `path`, if any. */
export function assetAt(path: string): Asset | undefined {
  return byPath.get(path);
}
