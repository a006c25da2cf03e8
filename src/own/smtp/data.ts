/* DATA encoding for our SMTP client (why not nodemailer's byte-by-byte DataStream: see connection.ts). */
/**
 * A message as the DATA command carries it (RFC 5321 4.5.2): CRLF line ends only,
 * a dot doubled at the start of a line, and ".\r\n" on a line of its own at the end.
 *
 * Every digest is built by us with CRLF line ends already, so the common case costs
 * native scans of the bytes (of an edition's shared segments, once) and no copy:
 * the chunks go out as they came, with the rare stuffed dot between them. Only a message with a bare CR or LF (which a
 * receiver could read as a line end: SMTP smuggling) is rewritten.
 */
const LF = 0x0a;
const CR = 0x0d;
const DOT = Buffer.from('.');
const END_AFTER_CRLF = Buffer.from('.\r\n');
const END = Buffer.from('\r\n.\r\n');

/** What the DATA encoding needs to know of one chunk, apart from its neighbours. */
interface ChunkScan {
  /** A CR or LF inside the chunk that is not half of a CRLF (its first byte and last byte are judged with the neighbours). */
  innerBareBreak: boolean;
  /** Offsets of the dots that start a line inside the chunk (after an LF). */
  lineDots: number[];
}

/**
 * An edition's long segments are shared by every subscriber's message: scanned once
 * and remembered (by identity: segments are never written to), not once a message.
 * Short per-subscriber values are cheaper to scan than to remember.
 */
const scans = new WeakMap<Buffer, ChunkScan>();
const REMEMBER_FROM_BYTES = 1024;

function scan(chunk: Buffer): ChunkScan {
  const known = scans.get(chunk);
  if (known !== undefined) return known;
  let innerBareBreak = false;
  for (let at = chunk.indexOf(LF); at !== -1 && !innerBareBreak; at = chunk.indexOf(LF, at + 1)) {
    innerBareBreak = at > 0 && chunk[at - 1] !== CR;
  }
  for (let at = chunk.indexOf(CR); at !== -1 && !innerBareBreak; at = chunk.indexOf(CR, at + 1)) {
    innerBareBreak = at < chunk.length - 1 && chunk[at + 1] !== LF;
  }
  const lineDots: number[] = [];
  for (let at = chunk.indexOf('\n.'); at !== -1; at = chunk.indexOf('\n.', at + 2)) lineDots.push(at + 1);
  const result = { innerBareBreak, lineDots };
  if (chunk.length >= REMEMBER_FROM_BYTES) scans.set(chunk, result);
  return result;
}

export function smtpData(message: readonly Buffer[]): Buffer[] {
  const chunks = message.filter((chunk) => chunk.length > 0);
  const scanned = chunks.map(scan);
  if (hasBareLineBreak(chunks, scanned)) {
    return smtpData([
      Buffer.from(
        Buffer.concat(chunks)
          .toString('latin1')
          .replace(/\r\n|\r|\n/g, '\r\n'),
        'latin1',
      ),
    ]);
  }
  const data: Buffer[] = [];
  let atLineStart = true;
  for (const [index, chunk] of chunks.entries()) {
    if (atLineStart && chunk[0] === DOT[0]) data.push(DOT);
    let from = 0;
    for (const dot of scanned[index]!.lineDots) {
      data.push(chunk.subarray(from, dot), DOT);
      from = dot;
    }
    data.push(from === 0 ? chunk : chunk.subarray(from));
    atLineStart = chunk[chunk.length - 1] === LF;
  }
  // With no bare line feed, a last byte LF means the message ends with CRLF.
  data.push(atLineStart && chunks.length > 0 ? END_AFTER_CRLF : END);
  return data;
}

/** Inside each chunk, then across boundaries: a CR ending one chunk and an LF starting the next make a CRLF. */
function hasBareLineBreak(chunks: readonly Buffer[], scanned: readonly ChunkScan[]): boolean {
  return chunks.some((chunk, index) => {
    const previous = chunks[index - 1];
    return (
      scanned[index]!.innerBareBreak ||
      (chunk[0] === LF && previous?.[previous.length - 1] !== CR) ||
      (chunk[chunk.length - 1] === CR && chunks[index + 1]?.[0] !== LF)
    );
  });
}
