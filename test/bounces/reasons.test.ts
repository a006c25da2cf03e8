import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judge, type Evidence } from '../../src/bounces/reasons.js';

/** The reason, and hard or soft, as sisimai decides them (see reasons.ts). */
const verdict = (evidence: Evidence) => {
  const { reason, hard } = judge(evidence);
  return `${reason} ${hard ? 'hard' : 'soft'}`;
};

test('hard or soft follows the reason, whatever the status class', () => {
  assert.equal(
    verdict({
      status: '4.1.1',
      diagnostic:
        '450 4.1.1 <a@example.org>: Recipient address rejected: User unknown in virtual alias table (in reply to RCPT TO command)',
    }),
    'userunknown hard',
  );
  assert.equal(verdict({ status: '5.7.17', diagnostic: '550 5.7.17 Mailbox owner has changed' }), 'hasmoved hard');
  assert.equal(verdict({ status: '4.2.2', diagnostic: '452 4.2.2 Mailbox full', delayed: true }), 'mailboxfull soft');
  assert.equal(verdict({ status: '4.0.0', diagnostic: '', delayed: true }), 'expired soft');
});

test('a policy code (x.7.x) is soft, unless it refused a missing user at RCPT', () => {
  const context = '>>> RCPT TO:<a@example.org>';
  assert.equal(verdict({ status: '5.7.1', diagnostic: '553 Invalid recipient a@example.org (Mode: normal)', context }), 'userunknown hard');
  assert.equal(
    verdict({ status: '5.7.1', diagnostic: '554 5.7.1 <a@example.org>: Recipient address rejected: Access denied', context }),
    'userunknown hard',
  );
  assert.equal(
    verdict({ status: '5.7.1', diagnostic: '551 5.7.1 <a@example.org>: Recipient address rejected: Delivery not authorized', context }),
    'securityerror soft',
  );
  assert.equal(
    verdict({
      status: '5.7.26',
      diagnostic: '550 5.7.26 <a@example.org>: Recipient address rejected: Multiple authentication checks failed',
      context,
    }),
    'authfailure soft',
  );
});

test('a vague "user unknown" is userunknown when it answered RCPT, filtered when it answered DATA: the command named nearest decides', () => {
  assert.equal(
    verdict({
      diagnostic: '',
      context: 'While talking to mx.example.org:\n>>> DATA\n<<< 550 Unknown user a@example.org\n554 5.0.0 Service unavailable',
    }),
    'filtered soft',
  );
  const transcript =
    'While talking to mx.example.edu:\n>>> DATA\n<<< 550 Your mail is redundant.\nWhile talking to mx.example.org:\n>>> RCPT To:<a@example.org>\n<<< 550 Requested User Mailbox not found. No such user here.';
  assert.equal(verdict({ diagnostic: transcript.slice(transcript.indexOf('>>> RCPT')), context: transcript }), 'userunknown hard');
  assert.equal(verdict({ status: '5.0.0', diagnostic: '550 Unknown user a@example.org' }), 'filtered soft');
  assert.equal(verdict({ diagnostic: '', context: 'User a (a@example.org) not listed in Domino Directory' }), 'userunknown hard');
});

test('a command known for certain (our own refusals while sending) decides where the words name none', () => {
  assert.equal(verdict({ diagnostic: '550 No such user here', command: 'rcpt' }), 'userunknown hard');
  assert.equal(verdict({ diagnostic: '550 No such user here', command: 'data' }), 'filtered soft');
  assert.equal(verdict({ diagnostic: '550 No such user here' }), 'filtered soft', 'nothing says it answered RCPT');
  assert.equal(verdict({ diagnostic: '552 5.2.2 Mailbox full', command: 'rcpt' }), 'mailboxfull soft');
  assert.equal(verdict({ diagnostic: '550 Client host blocked using Spamhaus', command: 'rcpt' }), 'blocked soft');
});

test('a local program failing (x-unix) is a mailer error, and an x.1.1 that refuses us is about us', () => {
  assert.equal(
    verdict({
      status: '5.1.1',
      diagnostic: 'procmail: Couldn\'t create "/var/spool/mail/a" id: mx.example.org: No such user',
      diagnosticType: 'x-unix',
    }),
    'mailererror soft',
  );
  assert.equal(
    verdict({ status: '5.1.1', diagnostic: '550 5.1.1 Client host [192.0.2.1] blocked using zen.spamhaus.org' }),
    'blocked soft',
  );
  assert.equal(
    verdict({
      status: '5.1.1',
      diagnostic: '550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in local recipient table',
    }),
    'userunknown hard',
  );
});
