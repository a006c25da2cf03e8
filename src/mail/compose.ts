import type Mail from 'nodemailer/lib/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { PLACEHOLDERS } from '../render/digest.js';

/**
 * An edition's message, built once by nodemailer and then filled per subscriber.
 *
 * Building a 60 KB MIME message costs about 2 ms of CPU, which caps one process
 * near 500 messages/s; nodemailer has no way to personalise a built message, so
 * we split the built bytes at slots and splice each subscriber's values in. The
 * bodies are quoted-printable encoded here chunk by chunk, so that a slot never
 * falls inside an encoded line break.
 */
export type Slot = 'to' | 'date' | 'messageId' | 'unsubscribeUrl' | 'preferencesUrl' | 'unsubscribeMailto';
type Segment = Buffer | { slot: Slot; body: boolean };

export interface MessageTemplate {
  segments: Segment[];
}

export type SlotValues = Record<Slot, string>;

export interface EditionMessage {
  from: string;
  subject: string;
  html: string;
  text: string;
  listId: string;
}

const HEADER_MARKERS: Record<string, Slot> = {
  'recipient@feed-digest.invalid': 'to',
  FD_DATE_SLOT: 'date',
  'message-id@feed-digest.invalid': 'messageId',
  FD_UNSUBSCRIBE_URL: 'unsubscribeUrl',
  FD_UNSUBSCRIBE_MAILTO: 'unsubscribeMailto',
};
const BODY_MARKERS = { FD_TEXT_BODY: 'text', FD_HTML_BODY: 'html' } as const;
const BODY_PLACEHOLDERS: Record<string, Slot> = {
  [PLACEHOLDERS.unsubscribeUrl]: 'unsubscribeUrl',
  [PLACEHOLDERS.preferencesUrl]: 'preferencesUrl',
};

function markerPattern(markers: string[]): RegExp {
  return new RegExp(`(${markers.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
}
const HEADER_AND_BODY_PATTERN = markerPattern([...Object.keys(HEADER_MARKERS), ...Object.keys(BODY_MARKERS)]);
const PLACEHOLDER_PATTERN = markerPattern(Object.keys(BODY_PLACEHOLDERS));

export async function buildMessageTemplate(message: EditionMessage): Promise<MessageTemplate> {
  const options: Mail.Options = {
    from: message.from,
    to: 'recipient@feed-digest.invalid',
    subject: message.subject,
    messageId: '<message-id@feed-digest.invalid>',
    date: 'FD_DATE_SLOT',
    headers: {
      'List-Unsubscribe': '<FD_UNSUBSCRIBE_URL>, <FD_UNSUBSCRIBE_MAILTO>',
      // RFC 8058 one-click: mail providers POST this body to the https URL above.
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'List-Id': message.listId,
      'Auto-Submitted': 'auto-generated',
      Precedence: 'bulk',
    },
    text: { content: 'FD_TEXT_BODY', contentTransferEncoding: 'quoted-printable' },
    html: { content: 'FD_HTML_BODY', contentTransferEncoding: 'quoted-printable' },
  };
  const built = (await new MailComposer(options).compile().build()).toString('latin1');
  const segments: Segment[] = [];
  for (const [index, part] of built.split(HEADER_AND_BODY_PATTERN).entries()) {
    if (index % 2 === 0) segments.push(Buffer.from(part, 'latin1'));
    else if (part in HEADER_MARKERS) segments.push({ slot: HEADER_MARKERS[part]!, body: false });
    else segments.push(...bodySegments(message[BODY_MARKERS[part as keyof typeof BODY_MARKERS]]));
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

function bodySegments(body: string): Segment[] {
  const crlf = body.replace(/\r?\n/g, '\r\n');
  return crlf.split(PLACEHOLDER_PATTERN).map((part, index) =>
    index % 2 === 0
      ? Buffer.from(qpWrap(qpEncode(Buffer.from(part, 'utf8')), QP_LINE), 'ascii')
      : { slot: BODY_PLACEHOLDERS[part]!, body: true },
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
    Buffer.isBuffer(segment) ? segment : Buffer.from(slotValue(values[segment.slot], segment.body), 'ascii'),
  );
}

/** RFC 5322 date, e.g. "Tue, 30 Sep 2014 23:09:00 +0000". */
export function mailDate(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}
