/**
 * Keeping secrets out of what is printed or recorded: {@link Secret} holds a value that every rendering
 * (JSON, string, Deno's inspect) shows as `[redacted]`, and {@link maskSecrets} masks whatever looks secret in
 * a plain value before it is written anywhere (the environment record).
 * @module
 */

/** What a masked value is replaced with. */
export const REDACTED = "[redacted]";

/**
 * A secret value: only {@link Secret.reveal} gives it back. `JSON.stringify`, string conversion, `console.log`
 * and `structuredClone` (which drops the private field) never carry it.
 *
 * @example
 * ```ts
 * const token = new Secret("123:abc", "environment");
 * JSON.stringify({ token }); // '{"token":"[redacted]"}'
 * token.reveal(); // "123:abc"
 * ```
 */
export class Secret {
  readonly #value: string;

  constructor(value: string, readonly source: string) {
    this.#value = value;
  }

  /** The secret itself: pass it only to the code that uses it, never to a log. */
  reveal(): string {
    return this.#value;
  }

  /** Masked for JSON. */
  toJSON(): string {
    return REDACTED;
  }

  /** Masked for string conversion. */
  toString(): string {
    return REDACTED;
  }

  /** Masked for `console.log` and `Deno.inspect`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Secret(${this.source}, ${REDACTED})`;
  }
}

// Key names whose values are credentials (the config's own names and the usual ones).
const SECRET_NAME = /token|secret|passw(or)?d|api_?key|private_?key|credential|auth/i;
// A Telegram bot token (`<bot id>:<35 characters>`) wherever it appears in a string.
const BOT_TOKEN = /\d{5,}:[\w-]{20,}/g;

/** `s` with URL credentials, secret-looking query parameters and bot tokens masked. */
function maskString(s: string): string {
  let out = s.replace(BOT_TOKEN, REDACTED);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(out)) {
    try {
      const u = new URL(out);
      let changed = false;
      if (u.username || u.password) {
        u.username = REDACTED;
        u.password = "";
        changed = true;
      }
      for (const name of [...u.searchParams.keys()]) {
        if (SECRET_NAME.test(name)) {
          u.searchParams.set(name, REDACTED);
          changed = true;
        }
      }
      if (changed) out = decodeURIComponent(u.href);
    } catch {
      // Not a URL after all: the bot-token pass above is all it gets.
    }
  }
  return out;
}

/**
 * A deep copy of a JSON-like value with secrets masked: the value of every key whose name looks secret
 * (`token`, `password`, `api_key`, …), credentials and secret query parameters in URLs, and anything shaped like
 * a Telegram bot token. A {@link Secret} becomes `[redacted]`. Empty values stay empty (they tell "not set").
 *
 * @example
 * ```ts
 * maskSecrets({ kvPath: "https://u:p@kv.example/db", telegramToken: "1:x", symbols: ["BTCUSDT"] });
 * // { kvPath: "https://[redacted]@kv.example/db", telegramToken: "[redacted]", symbols: ["BTCUSDT"] }
 * ```
 */
export function maskSecrets(value: unknown): unknown {
  if (value instanceof Secret) return REDACTED;
  if (typeof value === "string") return maskString(value);
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const secretName = SECRET_NAME.test(k) && v !== null && v !== undefined && v !== "";
      out[k] = secretName ? REDACTED : maskSecrets(v);
    }
    return out;
  }
  return value;
}
