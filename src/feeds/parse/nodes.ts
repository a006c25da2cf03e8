/** Reading xml2js nodes (what rss-parser hands back) as plain strings. */

export type Node = unknown;
export type Attrs = Record<string, string | undefined>;

export function attrsOf(node: Node): Attrs {
  return (typeof node === 'object' && node !== null && '$' in node ? (node as { $: Attrs }).$ : undefined) ?? {};
}

/** Atom 0.3 mode="base64", or an Atom 1.0 media type that is neither text nor XML (RFC 4287 4.1.3.3). */
function isBase64(attrs: Attrs | undefined): boolean {
  const type = attrs?.type?.toLowerCase();
  if (attrs?.mode === 'base64') return true;
  return type !== undefined && type.includes('/') && !type.startsWith('text/') && !/[/+]xml$/.test(type);
}

/** The text of a node; for mixed content, all descendant text. */
export function textOf(node: Node): string | undefined {
  if (typeof node === 'string') return node;
  if (typeof node !== 'object' || node === null) return undefined;
  const record = node as Record<string, unknown>;
  if (isBase64(record.$ as Attrs | undefined) && typeof record._ === 'string') {
    return Buffer.from(record._, 'base64').toString('utf8');
  }
  const parts: string[] = typeof record._ === 'string' ? [record._] : [];
  for (const [key, value] of Object.entries(record)) {
    if (key === '$' || key === '_') continue;
    for (const child of Array.isArray(value) ? value : [value]) {
      const text = textOf(child);
      if (text) parts.push(text);
    }
  }
  return parts.length > 0 ? parts.join(parts.length > 1 && typeof record._ === 'string' ? '' : ' ') : undefined;
}

export function first(nodes: unknown): Node {
  return Array.isArray(nodes) ? nodes[0] : undefined;
}

export function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An Atom text construct (or RSS element) as HTML. */
export function htmlOf(node: Node): string | undefined {
  const text = textOf(node);
  if (text === undefined) return undefined;
  const type = attrsOf(node).type?.toLowerCase();
  return type === 'text' || type === 'text/plain' ? escapeHtml(text) : text;
}

export function linkCandidates(nodes: unknown): Array<{ href?: string; rel: string; type?: string; base?: string }> {
  if (!Array.isArray(nodes)) return [];
  return nodes
    .map((node) => {
      const attrs = attrsOf(node);
      return {
        href: attrs.href ?? (typeof node === 'string' ? node : textOf(node)),
        rel: attrs.rel ?? 'alternate',
        type: attrs.type,
        base: attrs['xml:base'],
      };
    })
    .filter((link) => nonEmpty(link.href) !== undefined);
}

export function numberOf(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}
