/**
 * A message as the DATA command carries it (RFC 5321 4.5.2): CRLF line ends only,
 * a dot doubled at the start of a line, and ".\r\n" on a line of its own at the end.
 *
 * Every digest is built by us with CRLF line ends already, so the common case costs
 * two native scans of the bytes and no copy; only a message with bare CR or LF (which
 * a receiver could read as a line end: SMTP smuggling) is rewritten.
 */
const LF = 0x0a;
const CR = 0x0d;
const DOT = Buffer.from('.');
const END_AFTER_CRLF = Buffer.from('.\r\n');
const END = Buffer.from('\r\n.\r\n');

export function smtpData(message: Buffer): Buffer[] {
  const clean = hasBareLineBreak(message)
    ? Buffer.from(message.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n'), 'latin1')
    : message;
  const chunks: Buffer[] = [];
  if (clean[0] === DOT[0]) chunks.push(DOT);
  let from = 0;
  for (let at = clean.indexOf('\n.'); at !== -1; at = clean.indexOf('\n.', at + 2)) {
    chunks.push(clean.subarray(from, at + 1), DOT);
    from = at + 1;
  }
  chunks.push(from === 0 ? clean : clean.subarray(from));
  const endsWithCrlf = clean.length >= 2 && clean[clean.length - 2] === CR && clean[clean.length - 1] === LF;
  chunks.push(endsWithCrlf ? END_AFTER_CRLF : END);
  return chunks;
}

function hasBareLineBreak(message: Buffer): boolean {
  for (let at = message.indexOf(LF); at !== -1; at = message.indexOf(LF, at + 1)) {
    if (at === 0 || message[at - 1] !== CR) return true;
  }
  for (let at = message.indexOf(CR); at !== -1; at = message.indexOf(CR, at + 1)) {
    if (message[at + 1] !== LF) return true;
  }
  return false;
}
