import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { ConfigError, loadConfig, type Config, type ConfigWithSecret } from '../../src/config/config.js';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createDkimSigner, dkimDnsRecord } from '../../src/own/dkim.js';
import { createMailer, createSmtpMailer, signingMailer } from '../../src/mail/transport.js';
import { sendConfirmationMail } from '../../src/mail/confirmation.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';
import { runCli } from '../helpers/cli.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

const secret = 'dkim-test-secret-'.padEnd(40, 'x');
const keyDir = mkdtempSync(path.join(tmpdir(), 'fd-dkim-'));
after(() => rmSync(keyDir, { recursive: true, force: true }));

function keyFile(name: string, key: KeyObject): string {
  const file = path.join(keyDir, name);
  writeFileSync(file, key.export({ format: 'pem', type: 'pkcs8' }));
  return file;
}

function dkimConfig(file: string, selector: string, extra: Record<string, string> = {}): ConfigWithSecret {
  return {
    ...loadConfig({
      BASE_URL: 'https://digest.example.org',
      SECRET: secret,
      SITE_NAME: 'Planet Digest',
      MAIL_FROM: 'Planet Digest <digest@example.org>',
      DKIM_DOMAIN: 'example.org',
      DKIM_SELECTOR: selector,
      DKIM_PRIVATE_KEY_FILE: file,
      ...extra,
    }),
    secret,
  };
}

/** Verifies as a receiver would, with DNS answered from the test's own key. */
async function verify(raw: Buffer, config: Config, record = dkimDnsRecord(config.dkim!.privateKey)) {
  const { domain, selector } = config.dkim!;
  const result = await dkimVerify(raw, {
    resolver: async (name: string, type: string) => {
      if (type === 'TXT' && name === `${selector}._domainkey.${domain}`) return [[record]];
      throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
    },
  });
  assert.equal(result.results.length, 1, 'one signature');
  return result.results[0]!;
}

const SIGNED = ['from', 'to', 'subject', 'date', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post', 'mime-version', 'content-type'];

function signedFields(raw: Buffer): string[] {
  const field = /^DKIM-Signature:[^]*?(?=\r\n\S)/m.exec(raw.toString('latin1'))![0];
  return /\bh=([^;]+)/.exec(field.replace(/\s+/g, ''))![1]!.toLowerCase().split(':');
}

/** Flips one character of the body after the headers: the signature must stop verifying. */
function tampered(raw: Buffer): Buffer {
  const text = raw.toString('latin1');
  const at = text.indexOf('Planet', text.indexOf('\r\n\r\n'));
  return Buffer.from(text.slice(0, at) + 'planet' + text.slice(at + 6), 'latin1');
}

const keys = {
  rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  ed25519: generateKeyPairSync('ed25519').privateKey,
};

for (const [kind, privateKey] of Object.entries(keys)) {
  describe(`DKIM with ${kind}`, () => {
    let database: TestDatabase;
    let sink: SmtpSink;
    const config = dkimConfig(keyFile(`${kind}.pem`, privateKey), `sel-${kind}`);

    before(async () => {
      database = await createTestDatabase();
      sink = await startSmtpSink();
      config.smtpUrl = sink.url;
    });
    after(async () => {
      await sink.close();
      await database.close();
    });

    test('a digest verifies as received over SMTP, quoted-printable and all', async () => {
      const { db } = database;
      const category = await seedCategory(db, 'thinktime', 'Thinktime');
      const feed = await seedFeed(db, category, 'Planet Linux Australia');
      const subscriber = await addSubscriber(db, { email: 'reader@example.net', categoryNames: ['thinktime'] });
      assert.ok('id' in subscriber);
      // Runs of blanks, a tab, a blank before a line end, long lines and a line that would start with a dot.
      await seedItem(db, feed, {
        title: 'Spaces   and\ttabs  ',
        excerpt: `${'Long words that wrap over many lines '.repeat(12)}\n.dot at a line start   \n\n`,
      });
      await seedItem(db, feed, { title: 'Ünïcödé “quotes” – dashes' });
      const mailer = createMailer(config);
      try {
        const sent = await sendDueDigests(db, config, mailer);
        assert.equal(sent.delivered.sent, 1);
      } finally {
        await mailer.close();
      }
      const [mail] = await sink.waitFor(1);
      const result = await verify(mail!.raw, config);
      assert.equal(result.status.result, 'pass', JSON.stringify(result.status));
      assert.equal(result.signingDomain, 'example.org');
      for (const name of SIGNED) assert.ok(signedFields(mail!.raw).includes(name), `${name} is signed`);
      assert.match(mail!.raw.toString('latin1'), /Content-Transfer-Encoding: quoted-printable/);
      assert.notEqual((await verify(tampered(mail!.raw), config)).status.result, 'pass', 'a changed body fails');
    });

    test('a confirmation mail verifies as received over SMTP', async () => {
      const before = sink.received.length;
      const mailer = createMailer(config);
      try {
        const result = await sendConfirmationMail(database.db, mailer, config, {
          subscriberId: 7,
          signupId: 1,
          email: 'new.reader@example.net',
          prefs: { categories: ['thinktime'], timezone: 'Europe/Berlin', hour: 7, frequency: 'daily', weekday: null } as never,
          alreadySubscribed: false,
        });
        assert.ok(result.ok, JSON.stringify(result));
      } finally {
        await mailer.close();
      }
      const mail = (await sink.waitFor(before + 1))[before]!;
      const result = await verify(mail.raw, config);
      assert.equal(result.status.result, 'pass', JSON.stringify(result.status));
      for (const name of ['from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type']) {
        assert.ok(signedFields(mail.raw).includes(name), `${name} is signed`);
      }
    });
  });
}

describe('DKIM over chunk boundaries', () => {
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink();
  });
  after(() => sink.close());

  test('blank runs, dots, bare line ends and empty lines that cross chunks hash as the message sent', async () => {
    const config = dkimConfig(keyFile('boundaries.pem', keys.rsa), 'chunks');
    const shared = Buffer.from(`${'x'.repeat(1100)}\r\n`);
    const chunks = [
      'From: Digest <digest@example.org>\r\nTo: ',
      'a@example.net',
      '\r\nSubject: Chunks  \r\n  folded\r\n',
      'Date: Tue, 1 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m@example.org>\r\nMIME-Version: 1.0\r\n',
      'Content-Type: text/plain; charset=us-ascii\r\n\r\nfirst line with blanks at the end \t',
      ' \r',
      '\n.starts with a dot\r\nword',
      '   ',
      '\tword  \r\n',
      'a bare\nline feed  \n',
      'and a bare\r',
      'cr\r\n',
      shared,
      '\r\n',
      '.\r\n',
      '',
      'last  line \r\n\r\n',
      '\r\n \r\n',
    ].map((part) => (Buffer.isBuffer(part) ? part : Buffer.from(part, 'latin1')));
    const mailer = signingMailer(createSmtpMailer(sink.url, 1), createDkimSigner(config.dkim!));
    try {
      for (let round = 0; round < 2; round += 1) {
        // The second message reuses the shared chunk's remembered canonical form.
        assert.ok((await mailer.send({ from: 'digest@example.org', to: 'a@example.net', chunks })).ok);
      }
    } finally {
      await mailer.close();
    }
    for (const mail of await sink.waitFor(2)) {
      assert.equal((await verify(mail.raw, config)).status.result, 'pass');
    }
  });
});

test('DKIM settings are checked at start', () => {
  const rsa = keyFile('ok.pem', keys.rsa);
  const problems = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
      return '';
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.problems.join('\n');
    }
  };
  assert.equal(loadConfig({}).dkim, undefined, 'off by default');
  assert.equal(dkimConfig(rsa, 's1').dkim?.selector, 's1');
  assert.match(problems({ DKIM_DOMAIN: 'example.org' }), /missing: DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE/);
  const env = { DKIM_DOMAIN: 'example.org', DKIM_SELECTOR: 's1' };
  assert.match(problems({ ...env, DKIM_PRIVATE_KEY_FILE: path.join(keyDir, 'absent.pem') }), /cannot be read \(ENOENT\)/);
  writeFileSync(path.join(keyDir, 'junk.pem'), 'not a key');
  assert.match(problems({ ...env, DKIM_PRIVATE_KEY_FILE: path.join(keyDir, 'junk.pem') }), /is not a PEM private key/);
  const ec = keyFile('ec.pem', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
  assert.match(problems({ ...env, DKIM_PRIVATE_KEY_FILE: ec }), /is a ec key; DKIM needs RSA or Ed25519/);
  const small = keyFile('small.pem', generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey);
  assert.match(problems({ ...env, DKIM_PRIVATE_KEY_FILE: small }), /RSA key of 512 bits/);
  assert.match(
    problems({ ...env, DKIM_DOMAIN: 'not a domain', DKIM_PRIVATE_KEY_FILE: rsa }),
    /DKIM_DOMAIN=not a domain is not a domain name/,
  );
});

test('dkim-record prints the TXT record that receivers verify the signatures with', async () => {
  for (const [kind, privateKey] of Object.entries(keys)) {
    const file = keyFile(`cli-${kind}.pem`, privateKey);
    const config = dkimConfig(file, `cli-${kind}`);
    const printed = await runCli(['dkim-record'], {
      DKIM_DOMAIN: 'example.org',
      DKIM_SELECTOR: `cli-${kind}`,
      DKIM_PRIVATE_KEY_FILE: file,
    });
    assert.equal(printed.code, 0, printed.stderr);
    const [name, ...strings] = printed.stdout.trim().split(/ IN TXT |" "/);
    assert.equal(name, `cli-${kind}._domainkey.example.org.`);
    const record = strings.join('').replace(/^"|"$/g, '');
    assert.ok(
      strings.every((part) => part.replace(/"/g, '').length <= 255),
      'each DNS string within 255 characters',
    );
    const message = createDkimSigner(config.dkim!)([
      Buffer.from('From: a@example.org\r\nTo: b@example.net\r\nSubject: hi\r\n\r\nHello\r\n'),
    ]);
    assert.equal((await verify(Buffer.concat(message), config, record)).status.result, 'pass', kind);
  }
});
