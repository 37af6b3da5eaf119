/**
 * Telegram HTML for `parse_mode: "HTML"` (pure): escaping, and monospace blocks cut to fit one message.
 * @module
 */

/** Telegram's limit on the length of a message's text. */
export const MAX_MESSAGE_CHARS = 4096;

/**
 * Escapes text for Telegram HTML (`&`, `<`, `>`; quotes only matter inside attributes, which we never write).
 *
 * @example
 * ```ts
 * escapeHtml("a<b & c"); // "a&lt;b &amp; c"
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

/**
 * Lines as one `<pre>` block of at most `maxChars` characters (escaped length, which is never less than what
 * Telegram counts). Lines that do not fit are cut whole and replaced by a `… N more lines` line.
 *
 * @example
 * ```ts
 * preBlock(["a", "b"]); // "<pre>a\nb</pre>"
 * ```
 */
export function preBlock(lines: readonly string[], maxChars = MAX_MESSAGE_CHARS - 200): string {
  const escaped = lines.map(escapeHtml);
  // Room for the tags and the "… N more lines" note.
  const budget = maxChars - "<pre></pre>".length - 24;
  let used = 0;
  let kept = 0;
  for (const line of escaped) {
    if (used + line.length + 1 > budget) break;
    used += line.length + 1;
    kept++;
  }
  const body = escaped.slice(0, kept);
  if (kept < escaped.length) body.push(`… ${escaped.length - kept} more lines`);
  return `<pre>${body.join("\n")}</pre>`;
}

/** Multi-line plain text (a report) as one `<pre>` block; a final newline is dropped. */
export function preText(text: string): string {
  return preBlock(text.replace(/\n$/, "").split("\n"));
}

/** Cuts plain text (before escaping) to `maxChars` characters, marking the cut with `…`. */
export function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : text.slice(0, maxChars - 1) + "…";
}
