/**
 * A message as the DATA command carries it (RFC 5321 4.5.2): CRLF line ends only,
 * a dot doubled at the start of a line, and ".\r\n" on a line of its own at the end.
 *
 * Every digest is built by us with CRLF line ends already, so the common case costs
 * native scans of the bytes and no copy: the chunks go out as they came, with the
 * rare stuffed dot between them. Only a message with a bare CR or LF (which a
 * receiver could read as a line end: SMTP smuggling) is rewritten.
 */
const LF = 0x0a;
const CR = 0x0d;
const DOT = Buffer.from('.');
const END_AFTER_CRLF = Buffer.from('.\r\n');
const END = Buffer.from('\r\n.\r\n');

export function smtpData(message: readonly Buffer[]): Buffer[] {
  const chunks = message.filter((chunk) => chunk.length > 0);
  if (hasBareLineBreak(chunks)) {
    return smtpData([Buffer.from(Buffer.concat(chunks).toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1')]);
  }
  const data: Buffer[] = [];
  let atLineStart = true;
  for (const chunk of chunks) {
    if (atLineStart && chunk[0] === DOT[0]) data.push(DOT);
    let from = 0;
    for (let at = chunk.indexOf('\n.'); at !== -1; at = chunk.indexOf('\n.', at + 2)) {
      data.push(chunk.subarray(from, at + 1), DOT);
      from = at + 1;
    }
    data.push(from === 0 ? chunk : chunk.subarray(from));
    atLineStart = chunk[chunk.length - 1] === LF;
  }
  // With no bare line feed, a last byte LF means the message ends with CRLF.
  data.push(atLineStart && chunks.length > 0 ? END_AFTER_CRLF : END);
  return data;
}

/** Looks across chunk boundaries too: a CR ending one chunk and an LF starting the next make a CRLF. */
function hasBareLineBreak(chunks: readonly Buffer[]): boolean {
  let previousLast: number | undefined;
  for (const [index, chunk] of chunks.entries()) {
    for (let at = chunk.indexOf(LF); at !== -1; at = chunk.indexOf(LF, at + 1)) {
      if ((at === 0 ? previousLast : chunk[at - 1]) !== CR) return true;
    }
    for (let at = chunk.indexOf(CR); at !== -1; at = chunk.indexOf(CR, at + 1)) {
      if ((at === chunk.length - 1 ? chunks[index + 1]?.[0] : chunk[at + 1]) !== LF) return true;
    }
    previousLast = chunk[chunk.length - 1];
  }
  return false;
}
