import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyMessage } from '../../src/bounces/classify.js';
import { sesOutcomes } from '../../src/bounces/webhooks/ses.js';

/**
 * An Amazon SES notification means the same whichever door it comes through: mailed
 * to the bounce address (the classifier) or posted through SNS (the webhook).
 */
const notifications: Record<string, object> = {
  'permanent, nothing more said': {
    notificationType: 'Bounce',
    bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'a@example.net' }] },
  },
  'permanent, user unknown': {
    notificationType: 'Bounce',
    bounce: {
      bounceType: 'Permanent',
      bouncedRecipients: [{ emailAddress: 'a@example.net', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
    },
  },
  'transient, mailbox full': {
    notificationType: 'Bounce',
    bounce: {
      bounceType: 'Transient',
      bounceSubType: 'MailboxFull',
      bouncedRecipients: [{ emailAddress: 'a@example.net', status: '4.2.2', diagnosticCode: 'smtp; 452 4.2.2 mailbox full' }],
    },
  },
  'transient, but the server says no such user': {
    notificationType: 'Bounce',
    bounce: {
      bounceType: 'Transient',
      bouncedRecipients: [{ emailAddress: 'a@example.net', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 no such user' }],
    },
  },
  'an abuse complaint': {
    notificationType: 'Complaint',
    complaint: { complaintFeedbackType: 'abuse', complainedRecipients: [{ emailAddress: 'a@example.net' }] },
  },
  'an authentication failure report': {
    notificationType: 'Complaint',
    complaint: { complaintFeedbackType: 'auth-failure', complainedRecipients: [{ emailAddress: 'a@example.net' }] },
  },
  'a delivery': { notificationType: 'Delivery', delivery: { recipients: ['a@example.net'], smtpResponse: '250 ok' } },
};

/** What acts on the address: hard, soft, complaint, or nothing. */
async function byMail(notification: object): Promise<string> {
  const mail = [
    'From: no-reply@sns.amazonaws.com',
    'To: bounces@example.org',
    'Subject: AWS Notification Message',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    JSON.stringify({ mail: { source: 'digest@example.org' }, ...notification }),
    '',
  ].join('\r\n');
  const classification = await classifyMessage(mail);
  if (classification.kind === 'complaint')
    return ['auth-failure', 'not-spam', 'virus'].includes(classification.feedbackType!) ? 'nothing' : 'complaint';
  return classification.kind === 'hard' || classification.kind === 'soft' ? classification.kind : 'nothing';
}

function byWebhook(notification: object): string {
  const [outcome] = sesOutcomes({ mail: { source: 'digest@example.org' }, ...notification }, 'sns-1', () => undefined);
  return outcome === undefined || outcome.kind === 'delivered' ? 'nothing' : outcome.kind;
}

test('mailed or posted, an SES notification gets one verdict: Permanent or a hard reason is hard, an authentication report no complaint', async () => {
  const verdicts = await Promise.all(
    Object.entries(notifications).map(async ([name, notification]) => [name, await byMail(notification), byWebhook(notification)]),
  );
  assert.deepEqual(
    verdicts.map(([name, mail, webhook]) => `${name}: ${mail} / ${webhook}`),
    [
      'permanent, nothing more said: hard / hard',
      'permanent, user unknown: hard / hard',
      'transient, mailbox full: soft / soft',
      'transient, but the server says no such user: hard / hard',
      'an abuse complaint: complaint / complaint',
      'an authentication failure report: nothing / nothing',
      'a delivery: nothing / nothing',
    ],
  );
});
