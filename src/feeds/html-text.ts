import { compile } from 'html-to-text';
import { ElementType, parseDocument } from 'htmlparser2';

/*
 * The text of a post's HTML, for its excerpt, exactly as html-to-text gives it with the
 * options below, at about half its cost (what is left is mostly htmlparser2's parse,
 * which html-to-text does too): html-to-text picks each element's format through
 * a CSS selector engine and builds its text through general-purpose builders (wrapping,
 * tables, pre). Posts are mostly paragraphs, links and lists: for those, the few rules
 * html-to-text applies under these options are done here on the same htmlparser2 document
 * it would build. A document with an element whose rules are not repeated here (a table,
 * pre, body) goes to html-to-text itself.
 */

// Compiled once: html-to-text's convert() rebuilds its selector tables on every call (4x slower).
const htmlToText = compile({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    // A caption describes a picture the excerpt does not show.
    { selector: 'figcaption', format: 'skip' },
    { selector: 'ul', options: { itemPrefix: ' ' } },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable' },
    { selector: 'blockquote', format: 'block' },
  ],
});

type Document = ReturnType<typeof parseDocument>;
type Node = Document['children'][number];
type Element = Extract<Node, { attribs: Record<string, string> }>;

/** Line breaks html-to-text puts before and after each block element under the options above. */
const BLOCKS = new Map<string, readonly [number, number]>([
  ...['article', 'aside', 'div', 'footer', 'form', 'header', 'main', 'nav', 'section'].map((name) => [name, [1, 1]] as const),
  ...['blockquote', 'p', 'h4', 'h5', 'h6', 'hr'].map((name) => [name, [2, 2]] as const),
  ...['h1', 'h2', 'h3'].map((name) => [name, [3, 2]] as const),
]);
const UPPERCASE = new Set(['h4', 'h5', 'h6']);
const SKIPPED = new Set(['img', 'figcaption']);
/** Formats not repeated here: dataTable, pre, base elements. (An <ol type> goes to html-to-text too.) */
const UNSUPPORTED = new Set(['table', 'pre', 'body']);
/**
 * Runs of html-to-text's whitespace (its `whitespaceCharacters` default, not JavaScript's
 * \s) other than a single space, which needs no replacing: most of them, in prose.
 */
const SPACES = /[ \t\r\n\f\u200b]{2,}|[\t\r\n\f\u200b]/g;
/** Deeper than this, html-to-text's own recursion decides (and overflows the same way as before). */
const MAX_DEPTH = 500;

class Unsupported extends Error {}

/**
 * A block under construction: html-to-text's BlockStackItem with its InlineTextBuilder.
 * Without wrapping a line's words are only ever joined by one space, so lines are kept
 * as strings (no word is empty: an empty line has no words).
 */
interface Block {
  leadingLineBreaks: number;
  stashedLineBreaks: number;
  rawText: string;
  lines: string[];
  line: string;
  stashedSpace: boolean;
  /** A list's, for its items. */
  maxPrefixLength: number;
  /** A list item's. */
  prefix: string;
}

const newBlock = (leadingLineBreaks: number): Block => ({
  leadingLineBreaks,
  stashedLineBreaks: 0,
  rawText: '',
  lines: [],
  line: '',
  stashedSpace: false,
  maxPrefixLength: 0,
  prefix: '',
});

function startNewLine(block: Block, count: number): void {
  block.lines.push(block.line);
  for (let i = 1; i < count; i++) block.lines.push('');
  block.line = '';
}

function textOf(block: Block): string {
  if (block.lines.length === 0 && block.line === '') return block.rawText;
  let text = block.rawText;
  for (const line of block.lines) text += `${line}\n`;
  return text + block.line;
}

function addText(block: Block, text: string, leadingLineBreaks: number, trailingLineBreaks: number): void {
  const parentText = textOf(block);
  const lineBreaks = Math.max(block.stashedLineBreaks, leadingLineBreaks);
  block.lines = [];
  block.line = '';
  if (parentText) block.rawText = parentText + '\n'.repeat(lineBreaks) + text;
  else {
    block.rawText = text;
    block.leadingLineBreaks = lineBreaks;
  }
  block.stashedLineBreaks = trailingLineBreaks;
}

class TextBuilder {
  private stack: Block[] = [newBlock(1)];
  private uppercase = 0;

  private get top(): Block {
    return this.stack[this.stack.length - 1]!;
  }

  /**
   * html-to-text's addInline and shrinkWrapAdd: the text's words, the first joined to the
   * line's last word unless a space separates them.
   */
  addInline(text: string): void {
    const block = this.top;
    if (text.length === 0) return;
    const collapsed = text.replace(SPACES, ' ');
    const leadingSpace = collapsed.startsWith(' ');
    const trailingSpace = collapsed.endsWith(' ');
    let words = collapsed.slice(leadingSpace ? 1 : 0, trailingSpace ? -1 : undefined);
    if (block.stashedLineBreaks && words === '') return;
    if (block.stashedLineBreaks) startNewLine(block, block.stashedLineBreaks);
    if (words !== '') {
      if (this.uppercase > 0) words = words.toUpperCase();
      const separate = block.stashedSpace || leadingSpace;
      block.line = block.line === '' ? words : separate ? `${block.line} ${words}` : block.line + words;
    }
    block.stashedSpace = (block.stashedSpace && words === '') || trailingSpace;
    block.stashedLineBreaks = 0;
  }

  addLineBreak(): void {
    startNewLine(this.top, 1);
  }

  open(leadingLineBreaks: number): Block {
    const block = newBlock(leadingLineBreaks);
    this.stack.push(block);
    return block;
  }

  close(trailingLineBreaks: number): Block {
    const block = this.stack.pop()!;
    addText(this.top, textOf(block), block.leadingLineBreaks, Math.max(block.stashedLineBreaks, trailingLineBreaks));
    return block;
  }

  closeListItem(): void {
    const item = this.stack.pop()!;
    const list = this.top;
    const prefixLength = Math.max(item.prefix.length, list.maxPrefixLength);
    const text = item.prefix.padEnd(prefixLength) + textOf(item).replace(/\n/g, `\n${' '.repeat(prefixLength)}`);
    addText(list, text, item.leadingLineBreaks, Math.max(item.stashedLineBreaks, 1));
  }

  closeList(trailingLineBreaks: number): void {
    const list = this.stack.pop()!;
    const text = textOf(list);
    if (text) addText(this.top, text, list.leadingLineBreaks, trailingLineBreaks);
  }

  withUppercase(work: () => void): void {
    this.uppercase++;
    work();
    this.uppercase--;
  }

  toString(): string {
    return textOf(this.stack[0]!);
  }
}

/** html-to-text's formatList: every child but blank text is an item; only <li> take a prefix. */
function walkList(list: Element, builder: TextBuilder, depth: number): void {
  if (list.name === 'ol' && list.attribs.type !== undefined) throw new Unsupported();
  const nested = (list.parent as Element | null)?.name === 'li';
  let next = Number(list.attribs.start || '1');
  const prefixOf = list.name === 'ol' ? () => ` ${next++}. ` : () => ' ';
  let maxPrefixLength = 0;
  const items = list.children
    .filter((child) => child.type !== ElementType.Text || !/^\s*$/.test(child.data))
    .map((child) => {
      if (child.type !== ElementType.Tag || child.name !== 'li') return { node: child, prefix: '' };
      const prefix = nested ? prefixOf().trimStart() : prefixOf();
      maxPrefixLength = Math.max(maxPrefixLength, prefix.length);
      return { node: child, prefix };
    });
  if (items.length === 0) return;
  const block = builder.open(nested ? 1 : 2);
  block.maxPrefixLength = maxPrefixLength;
  for (const { node, prefix } of items) {
    builder.open(1).prefix = prefix;
    walk([node], builder, depth + 1);
    builder.closeListItem();
  }
  builder.closeList(nested ? 1 : 2);
}

function walkElement(element: Element, builder: TextBuilder, depth: number): void {
  const name = element.name;
  if (UNSUPPORTED.has(name) || name !== name.toLowerCase()) throw new Unsupported();
  if (SKIPPED.has(name)) return;
  if (name === 'br') return builder.addLineBreak();
  if (name === 'ul' || name === 'ol') return walkList(element, builder, depth);
  const lineBreaks = BLOCKS.get(name);
  if (lineBreaks === undefined) return walk(element.children, builder, depth + 1);
  builder.open(lineBreaks[0]);
  if (name === 'hr') builder.addInline('-'.repeat(40));
  else if (UPPERCASE.has(name)) builder.withUppercase(() => walk(element.children, builder, depth + 1));
  else walk(element.children, builder, depth + 1);
  builder.close(lineBreaks[1]);
}

function walk(nodes: Node[], builder: TextBuilder, depth: number): void {
  if (depth > MAX_DEPTH) throw new Unsupported();
  for (const node of nodes) {
    // Scripts, styles, comments and CDATA are other node types: html-to-text ignores them too.
    if (node.type === ElementType.Text) builder.addInline(node.data);
    else if (node.type === ElementType.Tag) walkElement(node, builder, depth);
  }
}

/** The same string as html-to-text with the options above. */
export function htmlText(html: string): string {
  const document = parseDocument(html, { decodeEntities: true });
  const builder = new TextBuilder();
  try {
    walk(document.children, builder, 0);
  } catch (error) {
    if (error instanceof Unsupported) return htmlToText(html);
    throw error;
  }
  return builder.toString();
}
