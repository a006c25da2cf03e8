import { simpleParser, type ParsedMail } from 'mailparser';
import { field, parseFieldBlocks, typedValue, type FieldBlock } from './fields.js';
import { judge, replyCodeIn, statusIn, type Reason } from './reasons.js';
import { readSesNotification } from './ses.js';
import { valueAt } from './webhooks/json.js';

/**
 * What an inbound message is, read from its structure first and its wording second:
 * an RFC 3464 delivery status notification, an RFC 5965 (ARF) feedback report, an
 * Amazon SES notification mailed as JSON, an RFC 3834 auto-reply, a bounce in one of
 * the many non-standard formats servers still send (qmail, Exim, old Sendmail,
 * Exchange, ...), or none of these. Nothing here knows who the message is about:
 * tokens (verp.ts) do that, and only they.
 */
export type MessageKind = 'hard' | 'soft' | 'complaint' | 'unsubscribe' | 'auto-reply' | 'not-bounce';

export interface FailedRecipient {
  /** The address the report names; not trusted to identify anyone (the VERP token does). */
  address: string | undefined;
  kind: 'hard' | 'soft';
  reason: Reason;
  /** Enhanced status code, e.g. 5.1.1. */
  status: string | undefined;
  /** SMTP reply code, e.g. 550. */
  reply: string | undefined;
  diagnostic: string | undefined;
  /** A delay warning (the server is still trying), not a failure. */
  delayed: boolean;
}

export interface Classification {
  kind: MessageKind;
  /** Which evidence decided: the part or header that made the call. */
  basis: 'rfc3464' | 'arf' | 'ses-json' | 'rfc3834' | 'rfc2369' | 'heuristic' | 'none';
  /** Failed recipients of a bounce, in the report's order; the complained-of ones for a complaint. */
  recipients: FailedRecipient[];
  /** ARF Feedback-Type (abuse, fraud, opt-out, auth-failure, ...). */
  feedbackType?: string;
  subject: string;
  from: string | undefined;
  messageId: string | undefined;
  /** A one-line account of why, for logs and bounce_events.evidence. */
  summary: string;
}

export async function parseMessage(raw: Buffer | string): Promise<ParsedMail> {
  return simpleParser(raw, { keepDeliveryStatus: true, skipHtmlToText: false, skipTextLinks: true, skipImageLinks: true });
}

export async function classifyMessage(raw: Buffer | string): Promise<Classification> {
  return classifyParsed(await parseMessage(raw), raw);
}

/** `raw` is the message as received: its body is read as text when the MIME structure is broken. */
export function classifyParsed(mail: ParsedMail, raw: Buffer | string): Classification {
  const base = {
    subject: mail.subject ?? '',
    from: mail.from?.value[0]?.address,
    messageId: mail.messageId,
  };
  const contentType = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const reportType = contentType?.params?.['report-type']?.toLowerCase();
  const human = humanText(mail, raw);

  const feedback = partText(mail, ['message/feedback-report']);
  if (feedback !== undefined || reportType === 'feedback-report') return feedbackReport(base, feedback ?? '');

  // A DSN whose MIME boundary is broken still has its fields in the text.
  const dsn =
    partText(mail, ['message/delivery-status', 'message/global-delivery-status']) ??
    (/^Final-Recipient:/im.test(human) ? human : undefined) ??
    forwardedReport(mail);
  if (dsn !== undefined) {
    const fromDsn = deliveryStatus(base, dsn, human);
    if (fromDsn !== undefined) return fromDsn;
  }

  const ses = sesNotification(base, mail.text ?? '');
  if (ses !== undefined) return ses;

  if (isComplaintReport(mail)) {
    return {
      ...base,
      kind: 'complaint',
      basis: 'heuristic',
      recipients: [],
      feedbackType: 'abuse',
      summary: `complaint (not ARF): ${base.subject}`.slice(0, 200),
    };
  }

  // RFC 2369: a List-Unsubscribe mailto: is answered by a mail whose subject says so.
  if (/^\s*unsubscribe\b/i.test(base.subject)) {
    return {
      ...base,
      kind: 'unsubscribe',
      basis: 'rfc2369',
      recipients: [],
      summary: `unsubscribe request: ${base.subject}`.slice(0, 200),
    };
  }

  if (isAutoReply(mail) && !looksLikeBounce(mail)) {
    return { ...base, kind: 'auto-reply', basis: 'rfc3834', recipients: [], summary: `auto-reply: ${base.subject}`.slice(0, 200) };
  }

  if (looksLikeBounce(mail) || reportType === 'delivery-status') return heuristicBounce(base, mail, human);

  return { ...base, kind: 'not-bounce', basis: 'none', recipients: [], summary: `not a bounce: ${base.subject}`.slice(0, 200) };
}

type Base = Pick<Classification, 'subject' | 'from' | 'messageId'>;

function partText(mail: ParsedMail, types: string[]): string | undefined {
  const part = mail.attachments.find((a) => types.includes(a.contentType.toLowerCase()));
  return part?.content.toString('utf8');
}

/**
 * A delivery report that reached us forwarded inside another notice (a relay or a
 * filter returning the report it got): the attached message is itself a report.
 */
function forwardedReport(mail: ParsedMail): string | undefined {
  const attached = mail.attachments.find(
    (a) =>
      a.contentType.toLowerCase() === 'message/rfc822' &&
      /^Content-Type:\s*message\/(global-)?delivery-status/im.test(a.content.toString('utf8')),
  );
  return attached?.content.toString('utf8');
}

// --- RFC 5965 --------------------------------------------------------------

function feedbackReport(base: Base, report: string): Classification {
  const fields = mergeBlocks(parseFieldBlocks(report));
  const feedbackType = (field(fields, 'feedback-type') ?? 'abuse').toLowerCase();
  const addresses = [...(fields.get('original-rcpt-to') ?? []), ...(fields.get('removal-recipient') ?? [])];
  const recipients = addresses.map((address) => complainant(bareAddress(address)));
  return {
    ...base,
    kind: 'complaint',
    basis: 'arf',
    recipients,
    feedbackType,
    summary: `ARF feedback report (Feedback-Type: ${feedbackType})`,
  };
}

/**
 * Feedback types that are not a person's complaint: DMARC/DKIM failure reports (RFC 6591),
 * "this was not spam", virus reports (ARF's and SES's alike). Logged, never an unsubscribe.
 */
export function notAboutConsent(feedbackType: string | undefined): boolean {
  return feedbackType === 'auth-failure' || feedbackType === 'not-spam' || feedbackType === 'virus';
}

/** A complained-of recipient: no bounce, so never hard. */
function complainant(address: string | undefined): FailedRecipient {
  return { address, kind: 'soft', reason: 'feedback', status: undefined, reply: undefined, diagnostic: undefined, delayed: false };
}

function mergeBlocks(blocks: FieldBlock[]): FieldBlock {
  const merged: FieldBlock = new Map();
  for (const block of blocks) for (const [name, values] of block) merged.set(name, [...(merged.get(name) ?? []), ...values]);
  return merged;
}

// --- RFC 3464 --------------------------------------------------------------

function deliveryStatus(base: Base, dsn: string, human: string): Classification | undefined {
  const blocks = parseFieldBlocks(dsn).filter((b) => b.has('final-recipient') || b.has('original-recipient'));
  if (blocks.length === 0) return undefined;
  const failed: FailedRecipient[] = [];
  let delivered = 0;
  for (const block of blocks) {
    const action = (field(block, 'action') ?? '').toLowerCase().trim();
    const status = statusIn(field(block, 'status') ?? '');
    if (['delivered', 'relayed', 'expanded'].includes(action) || status?.startsWith('2')) {
      delivered += 1;
      continue;
    }
    const address = bareAddress(typedValue(field(block, 'final-recipient')) ?? typedValue(field(block, 'original-recipient')) ?? '');
    const diagnosticCode = field(block, 'diagnostic-code');
    const diagnostic = typedValue(diagnosticCode) ?? '';
    const context = aroundAddress(human, address) ?? human;
    const diagnosticType = /^\s*([A-Za-z0-9-]+)\s*;/.exec(diagnosticCode ?? '')?.[1];
    failed.push(recipientVerdict(address, status, diagnostic, context, action === 'delayed', diagnosticType));
  }
  if (failed.length === 0) {
    return { ...base, kind: 'not-bounce', basis: 'rfc3464', recipients: [], summary: `delivery notification: ${delivered} delivered` };
  }
  return bounce(base, 'rfc3464', failed);
}

function recipientVerdict(
  address: string | undefined,
  status: string | undefined,
  diagnostic: string,
  context: string,
  delayed: boolean,
  diagnosticType?: string,
): FailedRecipient {
  const verdict = judge({ status, diagnostic, context, delayed, diagnosticType });
  const words = diagnostic.trim() !== '' ? diagnostic : context;
  return {
    address,
    kind: verdict.hard ? 'hard' : 'soft',
    reason: verdict.reason,
    status: verdict.status,
    reply: replyCodeIn(words),
    diagnostic: words.replace(/\s+/g, ' ').trim().slice(0, 500) || undefined,
    delayed,
  };
}

function bounce(base: Base, basis: Classification['basis'], recipients: FailedRecipient[]): Classification {
  const kind = recipients.some((r) => r.kind === 'hard') ? 'hard' : 'soft';
  const first = recipients[0]!;
  return {
    ...base,
    kind,
    basis,
    recipients,
    summary: `${kind} bounce (${basis}): ${[first.status, first.reason, first.diagnostic].filter(Boolean).join(' ')}`.slice(0, 300),
  };
}

// --- Amazon SES notifications mailed as JSON ---------------------------------

function sesNotification(base: Base, text: string): Classification | undefined {
  const start = text.indexOf('{');
  if (start < 0 || !text.includes('notificationType')) return undefined;
  let parsed: unknown;
  try {
    // Mailed notifications wrap the one-line JSON, inside strings too.
    parsed = JSON.parse(text.slice(start, text.lastIndexOf('}') + 1).replace(/\r?\n/g, ''));
  } catch {
    return undefined;
  }
  // Through SNS the notification is a JSON string inside the SNS envelope's Message.
  const inner = valueAt(parsed, 'Message');
  if (typeof inner === 'string') {
    try {
      parsed = JSON.parse(inner);
    } catch {
      return undefined;
    }
  }
  // The same reading as the SES webhook's: one mapping for both doors.
  const report = readSesNotification(parsed);
  if (report?.type === 'complaint') {
    const recipients = report.recipients.map((r) => complainant(r.address));
    const feedbackType = report.feedbackType ?? 'abuse';
    return { ...base, kind: 'complaint', basis: 'ses-json', recipients, feedbackType, summary: `SES complaint (${feedbackType})` };
  }
  if (report?.type === 'bounce' && report.recipients.length > 0) {
    const recipients = report.recipients.map((r): FailedRecipient => {
      const words = r.diagnostic ?? '';
      return {
        address: r.address,
        kind: r.kind === 'hard' ? 'hard' : 'soft',
        reason: r.reason ?? 'undefined',
        status: r.status,
        reply: replyCodeIn(words),
        diagnostic: words.replace(/\s+/g, ' ').trim().slice(0, 500) || undefined,
        delayed: false,
      };
    });
    return bounce(base, 'ses-json', recipients);
  }
  if (report?.type === 'delivery')
    return { ...base, kind: 'not-bounce', basis: 'ses-json', recipients: [], summary: 'SES delivery notification' };
  return undefined;
}

// --- RFC 3834 and vacation replies -----------------------------------------

const AUTO_REPLY_SUBJECT =
  /^\s*(auto(matic)?[ -]?(reply|response|antwort|r[ée]ponse)|auto:|out of (the )?office|ooo\b|away\b|on vacation|vacation|abwesenheit|absence|r[ée]ponse automatique|risposta automatica|respuesta autom[aá]tica|autosvar|automatisch)/i;

function isAutoReply(mail: ParsedMail): boolean {
  const header = (name: string) => {
    const value = mail.headers.get(name);
    return typeof value === 'string' ? value.toLowerCase() : undefined;
  };
  const autoSubmitted = header('auto-submitted');
  if (autoSubmitted?.startsWith('auto-replied')) return true;
  if (['x-autoreply', 'x-autorespond', 'x-autoresponder', 'x-autoreply-from', 'x-mail-autoreply'].some((name) => mail.headers.has(name)))
    return true;
  const precedence = header('precedence');
  if (precedence === 'auto_reply' || precedence === 'auto-reply') return true;
  if (header('x-auto-response-suppress') !== undefined && AUTO_REPLY_SUBJECT.test(mail.subject ?? '')) return true;
  return AUTO_REPLY_SUBJECT.test(mail.subject ?? '');
}

// --- Non-standard bounces ----------------------------------------------------

const BOUNCE_SENDER = /^(mailer-?daemon|post_?master|mail-?daemon|mdaemon|mail delivery|bounces?|returned|double-bounce)\b/i;
const BOUNCE_SUBJECT =
  /undeliver|undelivered|delivery (status notification|failure|failed|has failed|problem|report|notification)|returned mail|return(ed)? to sender|failure notice|mail delivery failed|could not be delivered|couldn'?t be delivered|non[- ]?delivery|delivery failure|failed delivery|mail failure|bounced?|not delivered|rejected|permanent error|unzustellbar|nicht zustellbar|fehlgeschlagen|échec|non remis|no se puede entregar|message not delivered|warning: could not send|mail system error|error sending|system administrator|notice: mail|unable to deliver|delivery error|nondeliverable|delayed mail|delivery delayed|delivery notification|配信|不達|エラー|返送/i;

/** Complaint reports that predate ARF (Hotmail's, some ISPs'): a report subject and the message attached. */
function isComplaintReport(mail: ParsedMail): boolean {
  const attached =
    mail.attachments.some((a) => a.contentType.toLowerCase() === 'message/rfc822') ||
    /^Content-Type: message\/rfc822/im.test(mail.text ?? '');
  return (
    /\b(complaint|abuse report|spam report|feedback[- ]loop|fbl)\b/i.test(mail.subject ?? '') && (attached || mail.attachments.length === 0)
  );
}

function looksLikeBounce(mail: ParsedMail): boolean {
  const fromAddress = mail.from?.value[0]?.address ?? '';
  const fromName = mail.from?.value[0]?.name ?? '';
  if (mail.headers.has('x-failed-recipients')) return true;
  // RFC 5321 §4.5.5: notifications come from the null sender; with the message returned, a bounce.
  const nullSender = /^\s*<?\s*>?\s*$/.test(String((mail.headers.get('return-path') as { text?: string } | undefined)?.text ?? 'x'));
  if (nullSender && mail.attachments.some((a) => a.contentType.toLowerCase() === 'message/rfc822')) return true;
  if (BOUNCE_SENDER.test(fromAddress) || /mail delivery|mailer[- ]daemon|postmaster|mail administrator/i.test(fromName)) return true;
  return BOUNCE_SUBJECT.test(mail.subject ?? '');
}

function heuristicBounce(base: Base, mail: ParsedMail, human: string): Classification {
  const own = new Set([...addressesOf(mail.from), ...addressesOf(mail.to), ...addressesOf(mail.replyTo)].map((a) => a.toLowerCase()));
  const failedHeader = mail.headers.get('x-failed-recipients');
  const listed =
    typeof failedHeader === 'string'
      ? failedHeader
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean)
      : [];
  // The daemon's own address is no recipient, unless it is the only one named (mail to postmaster bounces too).
  const candidates = addressesIn(human).filter((a) => !own.has(a.toLowerCase()));
  const named = candidates.filter((a) => !BOUNCE_SENDER.test(a));
  const found = listed.length > 0 ? listed : named.length > 0 ? named : candidates.slice(0, 1);
  const addresses = [...new Set(found.map((a) => a.toLowerCase()))];
  const recipients =
    addresses.length > 0
      ? addresses.map((address) => {
          return recipientVerdict(address, undefined, aroundAddress(human, address) ?? '', human, isDelayNotice(human));
        })
      : [recipientVerdict(undefined, undefined, '', human, isDelayNotice(human))];
  return bounce(base, 'heuristic', recipients);
}

/** A warning that the server is still trying: nothing has failed for good. */
function isDelayNotice(text: string): boolean {
  return /(only a temporary failure|will (continue|keep) (trying|to try)|has been delayed|delivery (is )?delayed|not yet been delivered|still trying|will be retried|retry (again )?(later|for)|kept in the queue)/i.test(
    text,
  );
}

function addressesOf(value: ParsedMail['from'] | ParsedMail['to']): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((a) => a.value.map((v) => v.address ?? '')).filter(Boolean);
}

const ADDRESS = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/g;

function addressesIn(text: string): string[] {
  return [...text.matchAll(ADDRESS)].map((m) => m[0].replace(/^[.]+|[.]+$/g, ''));
}

function bareAddress(value: string): string | undefined {
  return addressesIn(value)[0];
}

/**
 * The text a bounce writes about one recipient: from the start of the line that first
 * names the address (">>> RCPT To:<a@b>", "554 <a@b>... reason") to the next line that
 * starts with another address (or 600 characters), where servers put the reply they got.
 */
function aroundAddress(text: string, address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const at = text.toLowerCase().indexOf(address.toLowerCase());
  if (at < 0) return undefined;
  const lineStart = text.lastIndexOf('\n', at) + 1;
  const start = at - lineStart <= 80 ? lineStart : at;
  const rest = text.slice(at + address.length, at + address.length + 600);
  const next = [...rest.matchAll(ADDRESS)].find(
    (m) => m[0].toLowerCase() !== address.toLowerCase() && /\n\s*(\d{3}[ -])?<?$/.test(rest.slice(0, m.index)),
  );
  return text.slice(start, at + address.length + (next?.index ?? rest.length));
}

/**
 * The bounce's own words: the text part without the returned original message that
 * non-standard bounces append inline (its words would be read as the server's).
 */
const ORIGINAL_MESSAGE = new RegExp(
  [
    // Distinctive wherever they stand.
    '^\\s*-* ?(Below this line is a copy of the message|This is a copy of the message|Original message follows|Unsent message below|Message text follows|Undelivered message follows|Headers of the original message|Returned message|Message headers follow|Original message:)',
    // Generic words, only as a separator line.
    '^\\s*-{2,} ?(Original message|Forwarded message|The original message|Message header follows)',
    '^Content-Type: message/rfc822',
    // An inlined message's header block.
    '^(Return-Path|Received): .+\\n(Received|Return-Path|From|Date|Message-ID):',
  ].join('|'),
  'im',
);

function humanText(mail: ParsedMail, raw: Buffer | string): string {
  const text = mail.text?.trim() ? mail.text : rawBody(raw);
  const cut = ORIGINAL_MESSAGE.exec(text);
  return (cut === null ? text : text.slice(0, cut.index)).slice(0, 20_000);
}

/** The body of a message whose MIME parts could not be read: the text after the header block. */
function rawBody(raw: Buffer | string): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const end = /\r?\n\r?\n/.exec(text);
  return end === null ? '' : text.slice(end.index + end[0].length);
}
