import type { InboundOutcome } from '../apply.js';
import { arrayAt, stringAt, valueAt } from './json.js';
import type { DeliveryOfSender } from './verp.js';

/**
 * An Amazon SES notification (the Message of an SNS Notification) as outcomes, one per
 * recipient it names. Both SES formats: feedback notifications ("notificationType")
 * and configuration-set events ("eventType"). Permanent bounces are hard; Transient
 * and Undetermined ones soft; a complaint of type "not-spam" is no complaint.
 */
export function sesOutcomes(notification: unknown, snsMessageId: string, deliveryOf: DeliveryOfSender): InboundOutcome[] {
  const type = stringAt(notification, 'notificationType') ?? stringAt(notification, 'eventType');
  const mail = valueAt(notification, 'mail');
  const messageId = stringAt(mail, 'commonHeaders', 'messageId') ?? headerValue(mail, 'message-id');
  // mail.source is the envelope sender: our VERP address, when the relay kept it.
  const deliveryId = deliveryOf(stringAt(mail, 'source'));
  const outcome = (
    email: string | undefined,
    fields: Partial<InboundOutcome> & Pick<InboundOutcome, 'kind' | 'evidence'>,
    id: string | undefined,
  ) => ({
    email,
    messageId,
    deliveryId,
    source: 'ses' as const,
    // One event per recipient: SES may send one report to two topics, under two SNS ids but one feedback id.
    eventKey: `ses:${id ?? snsMessageId}:${email ?? ''}`,
    ...fields,
  });
  if (type === 'Bounce') {
    const bounce = valueAt(notification, 'bounce');
    const bounceType = stringAt(bounce, 'bounceType') ?? 'Undetermined';
    const subType = stringAt(bounce, 'bounceSubType') ?? '';
    return arrayAt(bounce, 'bouncedRecipients').map((recipient) => {
      const email = stringAt(recipient, 'emailAddress');
      const diagnostic = stringAt(recipient, 'diagnosticCode');
      return outcome(
        email,
        {
          kind: bounceType === 'Permanent' ? 'hard' : 'soft',
          status: stringAt(recipient, 'status'),
          diagnostic,
          evidence: `SES bounce ${bounceType}/${subType} for ${email}${diagnostic ? `: ${diagnostic}` : ''}`,
        },
        stringAt(bounce, 'feedbackId'),
      );
    });
  }
  if (type === 'Complaint') {
    const complaint = valueAt(notification, 'complaint');
    const feedbackType = stringAt(complaint, 'complaintFeedbackType');
    if (feedbackType === 'not-spam') return [];
    return arrayAt(complaint, 'complainedRecipients').map((recipient) => {
      const email = stringAt(recipient, 'emailAddress');
      return outcome(
        email,
        {
          kind: 'complaint',
          evidence: `SES complaint (${feedbackType ?? 'no feedback type'}) from ${email}`,
        },
        stringAt(complaint, 'feedbackId'),
      );
    });
  }
  if (type === 'Delivery') {
    const delivery = valueAt(notification, 'delivery');
    const response = stringAt(delivery, 'smtpResponse');
    const addresses = arrayAt(delivery, 'recipients').filter((email): email is string => typeof email === 'string');
    return addresses.map((email) =>
      outcome(email, { kind: 'delivered', evidence: `SES delivery to ${email}: ${response ?? ''}` }, undefined),
    );
  }
  return [];
}

/** From mail.headers, which SES includes when "include original headers" is on. */
function headerValue(mail: unknown, name: string): string | undefined {
  const header = arrayAt(mail, 'headers').find((h) => stringAt(h, 'name')?.toLowerCase() === name);
  return stringAt(header, 'value');
}
