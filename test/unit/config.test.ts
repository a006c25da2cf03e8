import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, mailDomain } from '../../src/config/config.js';

/** The problems a ConfigError lists for these settings. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('with nothing set: embedded, outbox, local web server, the documented defaults', () => {
  const config = loadConfig({});
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.smtpUrl, undefined);
  assert.equal(config.secret, undefined);
  assert.equal(config.dataDir, path.resolve('data'));
  assert.equal(config.outboxDir, path.resolve('outbox'));
  assert.equal(config.baseUrl, 'http://localhost:8080');
  assert.equal(config.mailFrom, 'feed-digest <digest@localhost>');
  assert.deepEqual(
    [
      config.smtpPoolSize,
      config.sendRateLimit,
      config.fetchTimeoutMs,
      config.fetchConcurrency,
      config.fetchPerHost,
      config.fetchMaxItems,
      config.fetchIntervalMinutes,
    ],
    [4, 0, 20_000, 16, 2, 500, 60],
  );
  assert.equal(config.fetchMaxBytes, 10 * 1024 * 1024);
  assert.deepEqual([config.host, config.port, config.trustProxy], ['127.0.0.1', 8080, false]);
  assert.deepEqual([config.defaultTimezone, config.defaultDeliveryHour, config.logLevel], ['UTC', 7, 'info']);
  assert.deepEqual([config.schedulerTickSeconds, config.sendLeaseSeconds], [30, 300]);
});

test('blank values count as unset, and surrounding spaces are trimmed', () => {
  const config = loadConfig({ SMTP_URL: '   ', PORT: '', SITE_NAME: '  Planet  ', DATA_DIR: ' /srv/digest ' });
  assert.equal(config.smtpUrl, undefined);
  assert.equal(config.port, 8080);
  assert.equal(config.siteName, 'Planet');
  assert.equal(config.dataDir, '/srv/digest');
});

test('the sender defaults to the site name at the host of BASE_URL, without characters that would break the address', () => {
  const config = loadConfig({ BASE_URL: 'https://digest.example.org/planet///', SITE_NAME: 'Planet "Ops" <Team@Home>' });
  assert.equal(config.baseUrl, 'https://digest.example.org/planet', 'trailing slashes go');
  assert.equal(config.mailFrom, 'Planet Ops TeamHome <digest@digest.example.org>');
  assert.equal(mailDomain(config), 'digest.example.org');
  assert.equal(loadConfig({ MAIL_FROM: 'news@example.org' }).mailFrom, 'news@example.org');
});

test('TRUST_PROXY: false, true, a hop count, or a list of addresses', () => {
  assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
  assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
  assert.deepEqual(loadConfig({ TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,' }).trustProxy, ['127.0.0.1', '10.0.0.0/8']);
});

test('a Postgres server needs a secret of 32 characters or more', () => {
  const secret = 'x'.repeat(32);
  const config = loadConfig({ DATABASE_URL: 'postgresql://u@db.example.org/digest', SECRET: secret, SECRET_PREVIOUS: 'old' });
  assert.deepEqual([config.databaseUrl, config.secret, config.secretPrevious], ['postgresql://u@db.example.org/digest', secret, 'old']);
  assert.deepEqual(problemsOf({ DATABASE_URL: 'postgres://db/digest' }), [
    'SECRET is required with DATABASE_URL, so that every instance signs links alike (try: openssl rand -hex 32)',
  ]);
  assert.deepEqual(problemsOf({ SECRET: 'x'.repeat(31) }), ['SECRET must be at least 32 characters (try: openssl rand -hex 32)']);
});

test('numbers must be whole and in range; the bounds themselves are accepted', () => {
  assert.equal(loadConfig({ PORT: '0' }).port, 0);
  assert.equal(loadConfig({ PORT: '65535', SMTP_POOL_SIZE: '50', DEFAULT_DELIVERY_HOUR: '23' }).smtpPoolSize, 50);
  assert.deepEqual(problemsOf({ PORT: '65536' }), ['PORT=65536 must be a whole number from 0 to 65535']);
  assert.deepEqual(problemsOf({ SMTP_POOL_SIZE: '1.5' }), ['SMTP_POOL_SIZE=1.5 must be a whole number from 1 to 50']);
  assert.deepEqual(problemsOf({ SEND_LEASE_SECONDS: '4' }), ['SEND_LEASE_SECONDS=4 must be a whole number from 5 to 86400']);
});

test('every bad value is listed at once, each with what is wrong', () => {
  const problems = problemsOf({
    BASE_URL: 'ftp://example.org',
    DATABASE_URL: 'mysql://db/digest',
    SECRET: 'x'.repeat(40),
    MAIL_FROM: 'Digest <not an address>',
    DEFAULT_TIMEZONE: 'Mars/Olympus',
    SMTP_URL: 'smtp://relay.example.org?pool=true',
    LOG_LEVEL: 'loud',
    FETCH_TIMEOUT_MS: 'soon',
  });
  assert.deepEqual(problems, [
    'BASE_URL must start with http:// or https:// (got ftp://)',
    'MAIL_FROM=Digest <not an address> must be an address like "Digest <digest@example.org>"',
    'DATABASE_URL must start with postgres:// or postgresql:// (got mysql://)',
    'DEFAULT_TIMEZONE=Mars/Olympus is not an IANA time zone (e.g. Europe/Berlin)',
    'SMTP_URL has an unknown option pool (known: requireTLS, tls.rejectUnauthorized)',
    'LOG_LEVEL=loud must be one of fatal, error, warn, info, debug, trace, silent',
    'FETCH_TIMEOUT_MS=soon must be a whole number from 100 to 600000',
  ]);
  assert.match(new ConfigError(problems).message, /^Invalid configuration:\n {2}- BASE_URL/);
});

test('only the given environment is read', () => {
  const saved = process.env.PORT;
  process.env.PORT = '9999';
  try {
    assert.equal(loadConfig({}).port, 8080);
  } finally {
    if (saved === undefined) delete process.env.PORT;
    else process.env.PORT = saved;
  }
});
