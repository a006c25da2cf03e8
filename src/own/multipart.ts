/**
 * The text fields of a multipart/form-data body. RFC 8058's own example of a one-click
 * unsubscribe POST is multipart, so some mail providers send it that way; this reads
 * only small text fields (the body is already capped by Fastify's bodyLimit), which is
 * all we accept. @fastify/multipart is built for streaming file uploads; a dependency
 * for one field was not worth it.
 */
export function parseMultipartFields(body: string, contentType: string): Record<string, string> {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const delimiter = boundary?.[1] ?? boundary?.[2];
  const fields: Record<string, string> = {};
  if (delimiter === undefined) return fields;
  // Split on the bare boundary, not "--boundary": RFC 8058's example itself drops the
  // two dashes, and a lenient reader costs nothing here.
  for (const part of body.split(delimiter)) {
    const separator = /\r?\n\r?\n/.exec(part);
    if (separator === null) continue;
    const headers = part.slice(0, separator.index);
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (name === undefined || /\bfilename=/i.test(headers)) continue;
    fields[name] = part.slice(separator.index + separator[0].length).replace(/\r?\n-*$/, '');
  }
  return fields;
}
