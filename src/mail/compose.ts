import type Mail from 'nodemailer/lib/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { randomBytes } from 'node:crypto';
import { POSTMARK_DELIVERY_KEY } from '../links/verp.js';
import { PERSONAL_VALUE_NAMES, placeholders, type PersonalValueName } from '../render/personal.js';

/**
 * An edition's message, built once by nodemailer and then filled per subscriber.
 *
 * Building a 60 KB MIME message costs about 2 ms of CPU, which caps one process
 * near 500 messages/s; nodemailer has no way to personalise a built message, so
 * we split the built bytes at slots and splice each subscriber's values in. The
 * bodies are quoted-printable encoded here chunk by chunk, so that a slot never
 * falls inside an encoded line break.
 */
export type Slot = 'to' | 'date' | 'messageId' | 'unsubscribeMailto' | 'deliveryTag' | PersonalValueName;
type Segment = Buffer | { slot: Slot; body: boolean };

export interface MessageTemplate {
  segments: Segment[];
}

/** deliveryTag only for templates that carry it (EditionMessage.postmarkMetadata). */
export type SlotValues = Record<Exclude<Slot, 'deliveryTag'>, string> & { deliveryTag?: string };

export interface EditionMessage {
  from: string;
  subject: string;
  html: string;
  text: string;
  listId: string;
  /** Offer the mailto: in List-Unsubscribe too (only when mail to it is read). */
  unsubscribeMailto: boolean;
  /** The nonce of the bodies' personal placeholders (see render/personal.ts). */
  slotNonce: string;
  /**
   * Carry the delivery's signed tag as Postmark metadata (X-PM-Metadata-*): Postmark hands
   * it back with every webhook event, and reports neither our envelope sender nor our Message-ID.
   */
  postmarkMetadata?: boolean;
}

function markerPattern(markers: string[]): RegExp {
  return new RegExp(`(${markers.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
}

/**
 * The markers nodemailer's output is split at are random per build: subject, title
 * or body text holding a fixed marker would otherwise be cut there (an admin's
 * category title once moved the whole body into the Subject).
 */
function headerMarkers(): { header: Record<string, Slot>; body: Record<string, 'text' | 'html'> } {
  const nonce = randomBytes(12).toString('hex');
  return {
    header: {
      [`recipient-${nonce}@feed-digest.invalid`]: 'to',
      [`FD_DATE_${nonce}`]: 'date',
      [`message-id-${nonce}@feed-digest.invalid`]: 'messageId',
      [`FD_UNSUBSCRIBE_URL_${nonce}`]: 'unsubscribeUrl',
      [`FD_UNSUBSCRIBE_MAILTO_${nonce}`]: 'unsubscribeMailto',
      [`FD_DELIVERY_TAG_${nonce}`]: 'deliveryTag',
    },
    body: { [`FD_TEXT_${nonce}`]: 'text', [`FD_HTML_${nonce}`]: 'html' },
  };
}

export async function buildMessageTemplate(message: EditionMessage): Promise<MessageTemplate> {
  const markers = headerMarkers();
  const marker = (slot: Slot) => Object.keys(markers.header).find((key) => markers.header[key] === slot)!;
  const bodyMarker = (part: 'text' | 'html') => Object.keys(markers.body).find((key) => markers.body[key] === part)!;
  const options: Mail.Options = {
    from: message.from,
    to: marker('to'),
    subject: message.subject,
    messageId: `<${marker('messageId')}>`,
    date: marker('date'),
    headers: {
      'List-Unsubscribe': message.unsubscribeMailto
        ? `<${marker('unsubscribeUrl')}>, <${marker('unsubscribeMailto')}>`
        : `<${marker('unsubscribeUrl')}>`,
      // RFC 8058 one-click: mail providers POST this body to the https URL above.
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': message.listId,
      'Auto-Submitted': 'auto-generated',
      Precedence: 'bulk',
      ...(message.postmarkMetadata === true ? { [`X-PM-Metadata-${POSTMARK_DELIVERY_KEY}`]: marker('deliveryTag') } : {}),
    },
    text: { content: bodyMarker('text'), contentTransferEncoding: 'quoted-printable' },
    html: { content: bodyMarker('html'), contentTransferEncoding: 'quoted-printable' },
  };
  const built = (await new MailComposer(options).compile().build()).toString('latin1');
  const pattern = markerPattern([...Object.keys(markers.header), ...Object.keys(markers.body)]);
  const personal = placeholders(message.slotNonce);
  const bodySlots: Record<string, Slot> = Object.fromEntries(PERSONAL_VALUE_NAMES.map((name) => [personal[name], name]));
  const segments: Segment[] = [];
  for (const [index, part] of built.split(pattern).entries()) {
    if (index % 2 === 0) segments.push(Buffer.from(part, 'latin1'));
    else if (part in markers.header) segments.push({ slot: markers.header[part]!, body: false });
    else segments.push(...bodySegments(message[markers.body[part]!], bodySlots));
  }
  return { segments };
}

/**
 * Quoted-printable lines may hold 76 characters. Chunks are wrapped at 75 so that a
 * soft line break ("=" + CRLF) always fits before a slot; the slot's value then
 * gets lines of its own (see slotValue), and no line ever grows past the limit.
 */
const QP_LINE = 75;
const SOFT_BREAK = '=\r\n';

function bodySegments(body: string, slots: Record<string, Slot>): Segment[] {
  const crlf = body.replace(/\r?\n/g, '\r\n');
  return crlf
    .split(markerPattern(Object.keys(slots)))
    .map((part, index) =>
      index % 2 === 0 ? Buffer.from(qpWrap(qpEncode(Buffer.from(part, 'utf8')), QP_LINE), 'ascii') : { slot: slots[part]!, body: true },
    );
}

function slotValue(value: string, body: boolean): string {
  return body ? `${SOFT_BREAK}${qpWrap(qpEncode(value), QP_LINE)}${SOFT_BREAK}` : value;
}

/**
 * The subscriber's message as chunks: the edition's shared segments with this
 * subscriber's values between them. Never joined into one buffer: the socket writes
 * them as they are, so a send allocates only the few short values.
 */
export function personalize(template: MessageTemplate, values: SlotValues): Buffer[] {
  return template.segments.map((segment) =>
    Buffer.isBuffer(segment) ? segment : Buffer.from(slotValue(values[segment.slot] ?? '', segment.body), 'ascii'),
  );
}

/** RFC 5322 date, e.g. "Tue, 30 Sep 2014 23:09:00 +0000". */
export function mailDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}
