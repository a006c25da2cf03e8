/*
 * DKIM signatures (RFC 6376, relaxed/relaxed; rsa-sha256, or ed25519-sha256 per RFC 8463)
 * for messages that arrive as chunks: an edition's shared segments with each
 * subscriber's values between them (see src/mail/compose.ts).
 *
 * Written here rather than taken from nodemailer: its signer (nodemailer/lib/dkim)
 * takes a stream, hops through setImmediate several times per message and
 * canonicalises the body in a JavaScript loop over every byte, and it signs with RSA
 * only. Here the relaxed body canonicalisation of a long shared segment is worked out
 * once per edition and remembered (it is line by line, so only the lines that cross a
 * chunk boundary are redone per message), and each message costs one native SHA-256
 * pass over its body, a few short header lines and one signature.
 */
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { isProblem, type Problem } from '../problem.js';

export interface DkimSettings {
  domain: string;
  selector: string;
  privateKey: KeyObject;
}

/** What the signature covers, in this order, when the message has them. */
const SIGNED_FIELDS = [
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'subject',
  'date',
  'message-id',
  'list-id',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
];
/**
 * Named once more than they occur ("over-signed"): a copy of one of these added on the
 * way, e.g. a second From or a List-Unsubscribe pointing elsewhere, breaks the signature.
 */
const OVERSIGNED_FIELDS = ['from', 'subject', 'list-unsubscribe', 'list-unsubscribe-post'];

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

/** The key's algorithm, or a reason it cannot sign DKIM. */
export function dkimAlgorithm(key: KeyObject): { algorithm: DkimAlgorithm } | Problem {
  if (key.type !== 'private') return { problem: 'is not a private key' };
  if (key.asymmetricKeyType === 'ed25519') return { algorithm: 'ed25519-sha256' };
  if (key.asymmetricKeyType !== 'rsa') return { problem: `is a ${key.asymmetricKeyType} key; DKIM needs RSA or Ed25519` };
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return bits >= 1024
    ? { algorithm: 'rsa-sha256' }
    : { problem: `is an RSA key of ${bits} bits; DKIM needs at least 1024 (2048 recommended)` };
}

/** Reads a PEM private key for DKIM, or says what is wrong with it. */
export function parseDkimKey(pem: Buffer): KeyObject | Problem {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return { problem: 'is not a PEM private key (RSA or Ed25519)' };
  }
  const checked = dkimAlgorithm(key);
  return isProblem(checked) ? checked : key;
}

/** The TXT record to publish at `<selector>._domainkey.<domain>`. */
export function dkimDnsRecord(privateKey: KeyObject): string {
  const publicKey = createPublicKey(privateKey);
  if (privateKey.asymmetricKeyType === 'ed25519') {
    // RFC 8463: the bare 32-byte key, the last bytes of its SubjectPublicKeyInfo.
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    return `v=DKIM1; k=ed25519; p=${raw.toString('base64')}`;
  }
  return `v=DKIM1; k=rsa; p=${publicKey.export({ format: 'der', type: 'spki' }).toString('base64')}`;
}

export type DkimSigner = (message: readonly Buffer[]) => Buffer[];

/** Returns the message's chunks with a DKIM-Signature header field in front. */
export function createDkimSigner(settings: DkimSettings): DkimSigner {
  const { algorithm } = dkimAlgorithm(settings.privateKey) as { algorithm: DkimAlgorithm };
  const prefix = `v=1; a=${algorithm}; c=relaxed/relaxed; d=${settings.domain}; s=${settings.selector};`;
  return (message) => {
    const { header, bodyStart } = splitHeader(message);
    const fields = headerFields(header);
    const hashed = new RelaxedBodyHash();
    for (let index = bodyStart.chunk; index < message.length; index += 1) {
      hashed.write(message[index]!, index === bodyStart.chunk ? bodyStart.offset : 0);
    }
    const names = SIGNED_FIELDS.filter((name) => fields.some((field) => field.name === name));
    const signedNames = [...names, ...OVERSIGNED_FIELDS.filter((name) => names.includes(name))];
    const field =
      `DKIM-Signature: ${prefix} t=${Math.floor(Date.now() / 1000)};\r\n` +
      ` h=${signedNames.join(':')};\r\n bh=${hashed.digest()};\r\n b=`;
    const signedData = canonicalHeaders(fields, names) + relaxedField(field);
    const signature =
      algorithm === 'rsa-sha256'
        ? sign('sha256', Buffer.from(signedData, 'latin1'), settings.privateKey)
        : sign(null, createHash('sha256').update(signedData, 'latin1').digest(), settings.privateKey);
    const folded = signature.toString('base64').replace(/.{1,72}/g, (part, at: number) => (at === 0 ? part : `\r\n ${part}`));
    return [Buffer.from(`${field}${folded}\r\n`, 'latin1'), ...message];
  };
}

interface HeaderField {
  /** Lower case, for matching. */
  name: string;
  /** The whole field as it came, "Name: value" with its folding. */
  raw: string;
}

/** The header section as text (it is short), and where the body starts among the chunks. */
function splitHeader(message: readonly Buffer[]): { header: string; bodyStart: { chunk: number; offset: number } } {
  let header = '';
  for (const [index, chunk] of message.entries()) {
    const text = chunk.toString('latin1');
    const searchFrom = Math.max(0, header.length - 3);
    header += text;
    const end = header.indexOf('\r\n\r\n', searchFrom);
    // Found only now, so the blank line ends inside this chunk.
    if (end !== -1)
      return { header: header.slice(0, end + 2), bodyStart: { chunk: index, offset: end + 4 - (header.length - text.length) } };
  }
  return { header, bodyStart: { chunk: message.length, offset: 0 } };
}

function headerFields(header: string): HeaderField[] {
  return header
    .split(/\r\n(?![ \t])/)
    .filter((raw) => raw.includes(':'))
    .map((raw) => ({ name: raw.slice(0, raw.indexOf(':')).trim().toLowerCase(), raw }));
}

/** RFC 6376 3.4.2: lower-case name, unfolded value, runs of blanks as one space, none at the ends. */
function relaxedField(raw: string): string {
  const colon = raw.indexOf(':');
  const value = raw
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${raw.slice(0, colon).trim().toLowerCase()}:${value}`;
}

/** Each signed name takes the last field of that name not taken yet (RFC 6376 5.4.2). */
function canonicalHeaders(fields: HeaderField[], names: string[]): string {
  const taken = new Set<HeaderField>();
  let data = '';
  for (const name of names) {
    const field = fields.findLast((candidate) => candidate.name === name && !taken.has(candidate));
    if (field === undefined) continue;
    taken.add(field);
    data += `${relaxedField(field.raw)}\r\n`;
  }
  return data;
}

/** Whole lines, canonicalised, with the empty lines at their end counted apart. */
interface CanonicalLines {
  text: Buffer;
  trailingEmpty: number;
}

/**
 * A long shared segment's whole lines, canonicalised once per edition (by identity, like
 * the DATA scans in smtp/data.ts) rather than once per message.
 */
const remembered = new WeakMap<Buffer, { from: number; to: number; lines: CanonicalLines }>();
const REMEMBER_FROM_BYTES = 1024;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/**
 * The relaxed body hash (RFC 6376 3.4.4), fed chunk by chunk: blanks at line ends
 * dropped, other runs of blanks made one space, empty lines at the end ignored, a
 * CRLF after the last line. A bare CR or LF counts as a line end, since the DATA
 * encoding (smtp/data.ts) sends it as CRLF: nodemailer leaves bare LFs in 7bit parts.
 */
class RelaxedBodyHash {
  private readonly hash = createHash('sha256');
  /** The line being put together across chunks, without its line end. */
  private partial = '';
  /** Empty lines seen and not hashed yet: dropped if nothing else follows them. */
  private emptyLines = 0;

  write(chunk: Buffer, from: number): void {
    const first = chunk.indexOf(LF, from);
    if (first === -1) {
      this.partial += chunk.toString('latin1', from);
      return;
    }
    this.line(this.partial + chunk.toString('latin1', from, first));
    const last = chunk.lastIndexOf(LF);
    if (last > first) this.lines(wholeLines(chunk, first + 1, last + 1));
    this.partial = chunk.toString('latin1', last + 1);
  }

  digest(): string {
    if (this.partial !== '') this.line(this.partial);
    return this.hash.digest('base64');
  }

  /** A line ended by an LF (or the message's end); a bare CR inside it ends a line too, as on the wire. */
  private line(raw: string): void {
    for (const line of raw.replace(/\r$/, '').split('\r')) {
      const canonical = line.replace(/[ \t]+/g, ' ').replace(/ $/, '');
      if (canonical === '') this.emptyLines += 1;
      else this.lines({ text: Buffer.from(`${canonical}\r\n`, 'latin1'), trailingEmpty: 0 });
    }
  }

  private lines({ text, trailingEmpty }: CanonicalLines): void {
    if (text.length > 0) {
      for (; this.emptyLines > 0; this.emptyLines -= 1) this.hash.update(CRLF);
      this.hash.update(text);
    }
    this.emptyLines += trailingEmpty;
  }
}

function wholeLines(chunk: Buffer, from: number, to: number): CanonicalLines {
  const known = remembered.get(chunk);
  if (known !== undefined && known.from === from && known.to === to) return known.lines;
  const text = chunk
    .toString('latin1', from, to)
    .replace(/\r\n|\r|\n/g, '\r\n')
    .replace(/[ \t]+/g, ' ')
    .replace(/ \r\n/g, '\r\n');
  let end = text.length;
  while (text.endsWith('\r\n', end) && (end === 2 || text.endsWith('\r\n', end - 2))) end -= 2;
  const lines = { text: Buffer.from(text.slice(0, end), 'latin1'), trailingEmpty: (text.length - end) / 2 };
  if (chunk.length >= REMEMBER_FROM_BYTES) remembered.set(chunk, { from, to, lines });
  return lines;
}
