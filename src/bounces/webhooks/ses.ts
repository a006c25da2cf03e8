import type { InboundOutcome } from '../apply.js';
import { notAboutConsent } from '../classify.js';
import { readSesNotification } from '../ses.js';
import type { DeliveryOfSender } from './verp.js';

/**
 * An Amazon SES notification (the Message of an SNS Notification) as outcomes, one per
 * recipient it names, read by the same mapping as a notification that comes by mail
 * (../ses.ts). A complaint that is no one's complaint (not-spam, an authentication
 * failure report) changes nothing, as by mail.
 */
export function sesOutcomes(notification: unknown, snsMessageId: string, deliveryOf: DeliveryOfSender): InboundOutcome[] {
  const report = readSesNotification(notification);
  if (report === undefined || (report.type === 'complaint' && notAboutConsent(report.feedbackType))) return [];
  const deliveryId = deliveryOf(report.envelopeSender);
  return report.recipients.map((recipient) => {
    const email = recipient.address;
    const evidence =
      report.type === 'bounce'
        ? `SES bounce ${report.detail} (${recipient.reason}) for ${email}${recipient.diagnostic ? `: ${recipient.diagnostic}` : ''}`
        : report.type === 'complaint'
          ? `SES complaint (${report.feedbackType ?? 'no feedback type'}) from ${email}`
          : `SES delivery to ${email}: ${report.detail ?? ''}`;
    return {
      kind: recipient.kind,
      email,
      messageId: report.messageId,
      deliveryId,
      status: recipient.status,
      diagnostic: recipient.diagnostic,
      source: 'ses',
      evidence,
      // One event per recipient: SES may send one report to two topics, under two SNS ids but one feedback id.
      eventKey: `ses:${report.feedbackId ?? snsMessageId}:${email ?? ''}`,
    };
  });
}
