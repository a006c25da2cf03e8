/** Plain-text columns: mail readers and RFC 3676 expect lines under 78 characters. */
export const TEXT_WIDTH = 72;

/**
 * Wraps `text` at TEXT_WIDTH: the first line starts with `first`, the others with
 * `rest` (a hanging indent). A word longer than a line (a URL) gets a line of its own.
 */
export function wrapText(text: string, first = '', rest = first): string {
  const words = text.replace(/\s+/g, ' ').trim().split(' ').filter(Boolean);
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of words) {
    if (!empty && line.length + 1 + word.length > TEXT_WIDTH) {
      lines.push(line);
      line = rest;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  if (!empty) lines.push(line);
  return lines.join('\n');
}

/** Template control lines leave blank runs behind; a reader wants at most one blank line. */
export function tidyText(text: string): string {
  return `${text
    .replace(/[ \t]+\n/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}
