/**
 * The "name: value" field blocks of RFC 3464 delivery-status and RFC 5965
 * feedback-report parts: blocks separated by blank lines, continuation lines
 * folded, names case-insensitive. Each block maps a lower-case name to its values.
 */
export type FieldBlock = Map<string, string[]>;

export function parseFieldBlocks(text: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  let block: FieldBlock = new Map();
  let last: { name: string; index: number } | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (block.size > 0) blocks.push(block);
      block = new Map();
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line) && last !== undefined) {
      const values = block.get(last.name)!;
      values[last.index] = `${values[last.index]} ${line.trim()}`;
      continue;
    }
    const match = /^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.*)$/.exec(line);
    if (match === null) continue;
    const name = match[1]!.toLowerCase();
    const values = block.get(name) ?? [];
    values.push(match[2]!.trim());
    block.set(name, values);
    last = { name, index: values.length - 1 };
  }
  if (block.size > 0) blocks.push(block);
  return blocks;
}

export function field(block: FieldBlock, name: string): string | undefined {
  return block.get(name)?.[0];
}

/** "rfc822; a@b.example" -> "a@b.example"; "smtp; 550 no" -> "550 no". */
export function typedValue(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*[A-Za-z0-9-]+\s*;\s*(.*)$/s.exec(value);
  return (match?.[1] ?? value).trim();
}
