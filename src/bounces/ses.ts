import { judge, statusIn, type Reason } from './reasons.js';
import { arrayAt, stringAt, valueAt } from './webhooks/json.js';

/**
 * An Amazon SES notification read once, for both doors that receive them: mailed to
 * the bounce address (classify.ts) and posted through SNS (webhooks/ses.ts). Both SES
 * formats: feedback notifications ("notificationType") and configuration-set events
 * ("eventType").
 */
export interface SesReport {
  type: 'bounce' | 'complaint' | 'delivery';
  recipients: SesRecipient[];
  /** Our Message-ID, from the headers SES reports of the mail. */
  messageId: string | undefined;
  /** mail.source, the envelope sender: our VERP address, when the relay kept it. */
  envelopeSender: string | undefined;
  /** SES's id of the bounce or complaint: one report sent to two topics has two SNS ids but this one. */
  feedbackId: string | undefined;
  /** Permanent, Transient or Undetermined, and its subtype; the complaint's feedback type; the delivery's reply. */
  detail: string | undefined;
  feedbackType: string | undefined;
}

export interface SesRecipient {
  address: string | undefined;
  kind: 'hard' | 'soft' | 'complaint' | 'delivered';
  /** For a bounce: the reason the remote server's words and code name (reasons.ts). */
  reason?: Reason;
  status?: string | undefined;
  diagnostic?: string | undefined;
}

/**
 * A bounce is hard when SES calls it Permanent (it has read the remote reply, and keeps
 * such addresses off its own list), or when the reason is a hard one whatever SES says,
 * as for any other bounce; Transient and Undetermined bounces are otherwise soft.
 */
export function readSesNotification(notification: unknown): SesReport | undefined {
  const type = (stringAt(notification, 'notificationType') ?? stringAt(notification, 'eventType'))?.toLowerCase();
  const mail = valueAt(notification, 'mail');
  const common = {
    messageId: stringAt(mail, 'commonHeaders', 'messageId') ?? headerValue(mail, 'message-id'),
    envelopeSender: stringAt(mail, 'source'),
    feedbackType: undefined,
  };
  if (type === 'bounce') {
    const bounce = valueAt(notification, 'bounce');
    const bounceType = stringAt(bounce, 'bounceType') ?? 'Undetermined';
    const recipients = arrayAt(bounce, 'bouncedRecipients').map((recipient): SesRecipient => {
      const diagnostic = stringAt(recipient, 'diagnosticCode');
      const verdict = judge({
        status: statusIn(stringAt(recipient, 'status') ?? ''),
        diagnostic: diagnostic ?? '',
        delayed: bounceType !== 'Permanent',
      });
      return {
        address: stringAt(recipient, 'emailAddress'),
        kind: bounceType === 'Permanent' || verdict.hard ? 'hard' : 'soft',
        reason: verdict.reason,
        status: verdict.status,
        diagnostic,
      };
    });
    const detail = `${bounceType}/${stringAt(bounce, 'bounceSubType') ?? ''}`;
    return { ...common, type, recipients, feedbackId: stringAt(bounce, 'feedbackId'), detail };
  }
  if (type === 'complaint') {
    const complaint = valueAt(notification, 'complaint');
    const recipients = arrayAt(complaint, 'complainedRecipients').map((recipient): SesRecipient => ({
      address: stringAt(recipient, 'emailAddress'),
      kind: 'complaint',
    }));
    const feedbackType = stringAt(complaint, 'complaintFeedbackType');
    return { ...common, type, recipients, feedbackId: stringAt(complaint, 'feedbackId'), detail: feedbackType, feedbackType };
  }
  if (type === 'delivery') {
    const delivery = valueAt(notification, 'delivery');
    const recipients = arrayAt(delivery, 'recipients')
      .filter((address): address is string => typeof address === 'string')
      .map((address): SesRecipient => ({ address, kind: 'delivered' }));
    return { ...common, type, recipients, feedbackId: undefined, detail: stringAt(delivery, 'smtpResponse') };
  }
  return undefined;
}

/** From mail.headers, which SES includes when "include original headers" is on. */
function headerValue(mail: unknown, name: string): string | undefined {
  const header = arrayAt(mail, 'headers').find((h) => stringAt(h, 'name')?.toLowerCase() === name);
  return stringAt(header, 'value');
}
