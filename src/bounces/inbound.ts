import type { ParsedMail } from 'mailparser';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { BounceSource } from '../db/schema.js';
import { tokenKeys } from '../links/tokens.js';
import { applyOutcome, type AppliedOutcome, type InboundOutcome } from './apply.js';
import { classifyParsed, notAboutConsent, parseMessage, type Classification } from './classify.js';
import { verifiedTags, type AddressConfig, type AddressToken } from '../links/verp.js';

/**
 * One inbound message, whichever door it came through (`feed-digest inbound` on
 * stdin, or the IMAP mailbox `serve` polls): classified, tied to a delivery or a
 * subscriber by a signed tag and nothing else, then applied.
 */
export interface InboundReading {
  classification: Classification;
  /** The genuine tag that makes the message ours; undefined when it carries none. */
  tag: AddressToken | undefined;
  /** What to apply; undefined when nothing is to be done (no genuine tag, an auto-reply, a delay warning). */
  outcome: InboundOutcome | undefined;
}

export type InboundConfig = AddressConfig & Pick<Config, 'bounceSoftLimit' | 'bounceSoftDays'>;

/** Where a message says it was delivered to: the MTA's envelope headers first, then To and Cc. */
const RECIPIENT_HEADERS = ['delivered-to', 'x-original-to', 'envelope-to', 'x-envelope-to', 'x-rcpt-to', 'to', 'cc'];

function recipientText(mail: ParsedMail, envelopeRecipient: string | undefined): string {
  const values = RECIPIENT_HEADERS.flatMap((name) => mail.headerLines.filter((line) => line.key === name).map((line) => line.line));
  return [envelopeRecipient ?? '', ...values].join('\n');
}

export async function readInbound(
  config: AddressConfig,
  raw: Buffer,
  source: BounceSource,
  envelopeRecipient?: string,
): Promise<InboundReading> {
  const mail = await parseMessage(raw);
  const classification = classifyParsed(mail, raw);
  const keys = tokenKeys(config);
  const addressed = verifiedTags(keys, recipientText(mail, envelopeRecipient));
  const kind = classification.kind;

  let tag: AddressToken | undefined;
  if (kind === 'hard' || kind === 'soft' || kind === 'complaint') {
    // A bounce comes back to the delivery's own address; a complaint report goes to the
    // feedback address and names us only in the returned message (Return-Path, List-Unsubscribe).
    // The returned message may be base64 or quoted-printable: read it decoded too.
    const anywhere = () =>
      verifiedTags(
        keys,
        [raw.toString('latin1'), mail.text ?? '', ...mail.attachments.map((a) => a.content.toString('latin1'))].join('\n'),
      );
    tag = addressed.find((t) => t.purpose === 'bounce') ?? anywhere().find((t) => t.purpose === 'bounce');
    if (tag === undefined && kind === 'complaint') tag = anywhere().find((t) => t.purpose === 'unsubscribe');
  } else {
    // Mail to the List-Unsubscribe address unsubscribes, whatever it says (some clients
    // send it as an auto-reply); an auto-reply to a digest is ours, and ignored.
    tag =
      addressed.find((t) => t.purpose === 'unsubscribe') ??
      (kind === 'auto-reply' ? addressed.find((t) => t.purpose === 'bounce') : undefined);
  }
  // A delay warning says the server is still trying: no failure yet, nothing to count.
  const stillTrying = (kind === 'hard' || kind === 'soft') && classification.recipients.every((r) => r.delayed);
  const ignored = stillTrying || (kind === 'auto-reply' && tag?.purpose === 'bounce') || notAboutConsent(classification.feedbackType);
  if (tag === undefined || ignored) return { classification, tag, outcome: undefined };

  const first = classification.recipients[0];
  const outcomeKind = kind === 'hard' || kind === 'soft' || kind === 'complaint' ? kind : 'unsubscribe';
  const outcome: InboundOutcome = {
    kind: outcomeKind,
    ...(tag.purpose === 'bounce' ? { deliveryId: tag.id } : { subscriberId: tag.id }),
    status: first?.status,
    diagnostic: first?.diagnostic,
    source,
    evidence: `${classification.summary} [from ${classification.from ?? 'unknown'}, Message-ID ${classification.messageId ?? 'none'}]`,
    eventKey: classification.messageId === undefined ? undefined : `mail:${classification.messageId}`,
  };
  return { classification, tag, outcome };
}

export interface InboundResult extends InboundReading {
  applied: AppliedOutcome;
}

export async function handleInbound(
  db: Db,
  config: InboundConfig,
  raw: Buffer,
  source: BounceSource,
  envelopeRecipient?: string,
): Promise<InboundResult> {
  const reading = await readInbound(config, raw, source, envelopeRecipient);
  const applied: AppliedOutcome = reading.outcome === undefined ? { action: 'ignored' } : await applyOutcome(db, reading.outcome, config);
  return { ...reading, applied };
}

/** What `inbound --classify --json` prints: the classifier's view, and which tag it found. */
export function describeReading(reading: InboundReading): object {
  const { classification: c } = reading;
  return {
    kind: reading.outcome?.kind ?? c.kind,
    classified: c.kind,
    basis: c.basis,
    ...(c.feedbackType === undefined ? {} : { feedbackType: c.feedbackType }),
    recipients: c.recipients.map((r) => ({
      recipient: r.address ?? null,
      bounce: r.kind,
      reason: r.reason,
      status: r.status ?? null,
      reply: r.reply ?? null,
      diagnostic: r.diagnostic ?? null,
    })),
    tag: reading.tag === undefined ? null : reading.tag,
    subject: c.subject,
    from: c.from ?? null,
    summary: c.summary,
  };
}
