import type { SmtpEndpoint } from '../own/smtp/connection.js';
import type { Problem } from '../problem.js';

const OPTIONS: Record<string, (endpoint: SmtpEndpoint, value: boolean) => void> = {
  requireTLS: (endpoint, value) => {
    endpoint.requireTls = value;
  },
  'tls.rejectUnauthorized': (endpoint, value) => {
    endpoint.verifyCertificate = value;
  },
};

/**
 * SMTP_URL, read into where and how to connect:
 *   smtp://user:password@host:587   STARTTLS whenever the server offers it
 *   smtps://user:password@host:465  TLS from the first byte
 * with the query options `requireTLS=true` (never send in the clear) and
 * `tls.rejectUnauthorized=false` (accept a self-signed certificate: test servers only).
 * Returns the endpoint, or a problem saying what is wrong with the URL.
 */
export function parseSmtpUrl(text: string): SmtpEndpoint | Problem {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: 'is not a URL (e.g. smtp://user:password@smtp.example.org:587)' };
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') return { problem: 'must start with smtp:// or smtps://' };
  if (url.hostname === '') return { problem: 'has no host' };
  const implicitTls = url.protocol === 'smtps:';
  const endpoint: SmtpEndpoint = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (implicitTls ? 465 : 587) : Number(url.port),
    implicitTls,
    requireTls: false,
    verifyCertificate: true,
    user: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
  };
  for (const [key, value] of url.searchParams) {
    const apply = OPTIONS[key];
    if (apply === undefined) return { problem: `has an unknown option ${key} (known: ${Object.keys(OPTIONS).join(', ')})` };
    if (value !== 'true' && value !== 'false') return { problem: `option ${key} must be true or false` };
    apply(endpoint, value === 'true');
  }
  return endpoint;
}
