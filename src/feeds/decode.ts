import iconv from 'iconv-lite';

/** Text of a feed and the charset it was read as (lower-case iconv name). */
export interface Decoded {
  text: string;
  encoding: string;
}

const BOMS: Array<{ bytes: number[]; encoding: string }> = [
  // UTF-32 before UTF-16: FF FE 00 00 also starts with the UTF-16LE BOM.
  { bytes: [0x00, 0x00, 0xfe, 0xff], encoding: 'utf-32be' },
  { bytes: [0xff, 0xfe, 0x00, 0x00], encoding: 'utf-32le' },
  { bytes: [0xef, 0xbb, 0xbf], encoding: 'utf-8' },
  { bytes: [0xfe, 0xff], encoding: 'utf-16be' },
  { bytes: [0xff, 0xfe], encoding: 'utf-16le' },
];

/** How `<?xml` (or any `<`) looks in each multi-byte encoding without a BOM (XML 1.0 appendix F). */
const XML_START_PATTERNS: Array<{ bytes: number[]; encoding: string }> = [
  { bytes: [0x00, 0x00, 0x00, 0x3c], encoding: 'utf-32be' },
  { bytes: [0x3c, 0x00, 0x00, 0x00], encoding: 'utf-32le' },
  { bytes: [0x00, 0x3c, 0x00, 0x3f], encoding: 'utf-16be' },
  { bytes: [0x3c, 0x00, 0x3f, 0x00], encoding: 'utf-16le' },
];

/** Labels that name a subset of a more useful encoding, as browsers read them (WHATWG Encoding). */
const SUPERSETS: Record<string, string> = {
  'us-ascii': 'windows-1252',
  ascii: 'windows-1252',
  'iso-8859-1': 'windows-1252',
  latin1: 'windows-1252',
  'iso-8859-9': 'windows-1254',
  'iso-8859-11': 'windows-874',
  'tis-620': 'windows-874',
  gb2312: 'gb18030',
  gbk: 'gb18030',
  'x-gbk': 'gb18030',
  'euc-cn': 'gb18030',
  'ks_c_5601-1987': 'euc-kr',
  utf16: 'utf-16be',
  'utf-16': 'utf-16be',
  utf32: 'utf-32be',
  'utf-32': 'utf-32be',
};

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

function canonical(label: string | undefined): string | undefined {
  if (label === undefined) return undefined;
  const cleaned = label
    .trim()
    .replace(/^["']|["']$/g, '')
    .trim()
    .toLowerCase();
  if (cleaned === '') return undefined;
  const name = SUPERSETS[cleaned] ?? cleaned;
  return iconv.encodingExists(name) ? name : undefined;
}

/** The charset parameter of a Content-Type header, quoted or not. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const match = contentType?.match(/;\s*charset\s*=\s*("[^"]*"|'[^']*'|[^;\s]+)/i);
  return match?.[1];
}

function bomEncoding(bytes: Uint8Array): string | undefined {
  return BOMS.find((bom) => startsWith(bytes, bom.bytes))?.encoding;
}

function patternEncoding(bytes: Uint8Array): string | undefined {
  return XML_START_PATTERNS.find((pattern) => startsWith(bytes, pattern.bytes))?.encoding;
}

/** The encoding named in `<?xml ... encoding="..."?>`, read from the first bytes as ASCII. */
function declaredEncoding(bytes: Buffer, family: string | undefined): string | undefined {
  const head = family && family !== 'utf-8' ? iconv.decode(bytes.subarray(0, 1024), family) : bytes.subarray(0, 512).toString('latin1');
  const match = head.match(/^[\s\ufeff]*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/);
  return match?.[1];
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function isWide(encoding: string): boolean {
  return /^utf-?(16|32)/.test(encoding);
}

/**
 * Bytes to text in the order a forgiving reader trusts: a BOM (unambiguous), the HTTP
 * charset, the byte pattern of `<?xml` in UTF-16/32, the XML declaration, then UTF-8 when
 * the bytes are valid UTF-8, else windows-1252. A label that cannot be right (UTF-8 on
 * invalid bytes, UTF-16 on ASCII bytes) gives way to the next source.
 */
export function decodeFeed(bytes: Uint8Array, contentType?: string): Decoded {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bom = bomEncoding(buffer);
  const pattern = patternEncoding(buffer);
  const candidates = [bom, canonical(charsetOf(contentType)), pattern, canonical(declaredEncoding(buffer, bom ?? pattern))];
  for (let encoding of candidates) {
    if (encoding === undefined) continue;
    if (encoding !== bom) {
      // Without a BOM only the byte pattern tells UTF-16/32 and its byte order; an 8-bit label on wide bytes is a lie.
      if (isWide(encoding) !== (pattern !== undefined)) continue;
      encoding = pattern ?? encoding;
    }
    if (encoding === 'utf-8' && encoding !== bom && !isValidUtf8(buffer)) continue;
    return { text: stripBom(iconv.decode(buffer, encoding)), encoding };
  }
  const encoding = isValidUtf8(buffer) ? 'utf-8' : 'windows-1252';
  return { text: stripBom(iconv.decode(buffer, encoding)), encoding };
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
