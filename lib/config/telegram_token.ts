/**
 * Where the Telegram bot token comes from. The `TELEGRAM_BOT_TOKEN` environment variable wins; the
 * `telegram_bot_token` key that config files of the earlier Python collector carry is used only when the file
 * is closed to group and others (as ssh treats private keys). The token itself never appears in a message.
 * @module
 */

import { Secret } from "./secret.ts";

/** The places a token can come from. */
export interface TokenSources {
  /** `telegram_bot_token` of the file; `""` when absent or empty. */
  fileToken: string;
  /** The config file's name, for messages. */
  file: string;
  /** Permission bits of the file; null when unknown (text not read from a file, or no modes on this OS). */
  fileMode: number | null;
  /** `TELEGRAM_BOT_TOKEN` of the environment. */
  envToken: string | undefined;
}

/** The token to use (null: Telegram off) and a line of advice for the start log, or why the file is refused. */
export type TokenResolution =
  | { readonly token: Secret | null; readonly notice: string | null }
  | { readonly problem: string };

/** `digits:letters`, as BotFather hands them out. */
const TOKEN_SHAPE = /^\d+:[\w-]+$/;

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, "0")}`;
}

/**
 * Picks the bot token: the environment's if set, else the file's if the file is owner-only, else none.
 *
 * @example
 * ```ts
 * resolveTelegramToken({ fileToken: "1:a", file: "config.yaml", fileMode: 0o644, envToken: undefined });
 * // { problem: "… run `chmod 600 config.yaml`, or move the token to the TELEGRAM_BOT_TOKEN environment variable …" }
 * ```
 */
export function resolveTelegramToken(src: TokenSources): TokenResolution {
  if (src.envToken) {
    const notice = src.fileToken === "" ? null : `telegram_bot_token in ${src.file} is ignored: the ` +
      `TELEGRAM_BOT_TOKEN environment variable is set and wins; delete the key from the file`;
    return { token: new Secret(src.envToken, "environment"), notice };
  }
  if (src.fileToken === "") return { token: null, notice: null };
  if (!TOKEN_SHAPE.test(src.fileToken)) {
    return { problem: "is not a Telegram bot token (digits, a colon, then letters, digits, _ or -)" };
  }
  if (src.fileMode !== null && (src.fileMode & 0o077) !== 0) {
    return {
      problem: `the file holds the bot token but is open to group or others (mode ${octal(src.fileMode)}): ` +
        `run \`chmod 600 ${src.file}\`, or move the token to the TELEGRAM_BOT_TOKEN environment variable and ` +
        `delete this key`,
    };
  }
  return {
    token: new Secret(src.fileToken, src.file),
    notice: `Telegram bot token read from ${src.file}; the TELEGRAM_BOT_TOKEN environment variable is the ` +
      `recommended place for it (then delete telegram_bot_token from the file)`,
  };
}
