import { verify, X509Certificate } from 'node:crypto';

/**
 * Amazon SNS messages, verified as AWS documents it: the listed fields of the message
 * as "name\nvalue\n" lines, signed with SHA1withRSA (SignatureVersion 1) or
 * SHA256withRSA (2) by the key of the certificate at SigningCertURL. That URL is only
 * fetched when it is https on an SNS host (sns.<region>.amazonaws.com), so a forged
 * message cannot point us at a certificate of its own.
 */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

/** Returns the PEM text of a certificate at an https URL already checked to be on an SNS host. */
export type CertificateFetcher = (url: string) => Promise<string>;

const SIGNED_FIELDS: Record<SnsMessage['Type'], Array<keyof SnsMessage>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com$/;
/** SNS stops retrying a delivery long before a day has passed (about an hour by default): anything older is a replay. */
const MAX_AGE_MS = 24 * 3600_000;

/** An https URL on an SNS host: the only places a certificate or a subscription link may come from. */
export function isSnsUrl(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' && SNS_HOST.test(url.hostname) && url.port === '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** The body as an SNS message, or undefined when it is not one. */
export function parseSnsMessage(body: unknown): SnsMessage | undefined {
  let message: unknown = body;
  if (typeof body === 'string') {
    try {
      message = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const fields = message as Record<string, unknown>;
  const type = fields.Type;
  if (type !== 'Notification' && type !== 'SubscriptionConfirmation' && type !== 'UnsubscribeConfirmation') return undefined;
  const required = [...SIGNED_FIELDS[type].filter((name) => name !== 'Subject'), 'SignatureVersion', 'Signature', 'SigningCertURL'];
  if (required.some((name) => typeof fields[name] !== 'string')) return undefined;
  if (fields.Subject !== undefined && typeof fields.Subject !== 'string') return undefined;
  return fields as unknown as SnsMessage;
}

/**
 * Remembers each certificate by URL (SNS signs with a few, for months), and the
 * fetch in progress, so a burst of notifications fetches it once.
 */
export function certificateCache(fetchCertificate: CertificateFetcher): (url: string) => Promise<X509Certificate> {
  const certificates = new Map<string, Promise<X509Certificate>>();
  return (url) => {
    let certificate = certificates.get(url);
    if (certificate === undefined) {
      certificate = fetchCertificate(url).then((pem) => new X509Certificate(pem));
      certificates.set(url, certificate);
      // A failed fetch is not remembered: the next message tries again.
      certificate.catch(() => certificates.delete(url));
    }
    return certificate;
  };
}

/** Fetches a certificate over https: no redirects, a deadline, a size cap. */
export async function fetchCertificateOverHttps(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  const text = await response.text();
  if (text.length > 64 * 1024) throw new Error(`${url} is too large for a certificate`);
  return text;
}

/** Undefined when the message is genuine, from one of our topics, and recent; else why not. */
export async function snsMessageProblem(
  message: SnsMessage,
  topicArns: readonly string[],
  certificate: (url: string) => Promise<X509Certificate>,
  now = Date.now(),
): Promise<string | undefined> {
  if (!topicArns.includes(message.TopicArn)) return `topic ${message.TopicArn} is not ours`;
  const algorithm = message.SignatureVersion === '1' ? 'sha1' : message.SignatureVersion === '2' ? 'sha256' : undefined;
  if (algorithm === undefined) return `unknown SignatureVersion ${message.SignatureVersion}`;
  if (!isSnsUrl(message.SigningCertURL) || !new URL(message.SigningCertURL).pathname.endsWith('.pem')) {
    return `SigningCertURL ${message.SigningCertURL} is not an SNS certificate`;
  }
  const sentAt = Date.parse(message.Timestamp);
  if (!Number.isFinite(sentAt) || now - sentAt > MAX_AGE_MS || sentAt - now > 5 * 60_000)
    return `Timestamp ${message.Timestamp} is out of range`;
  let signer: X509Certificate;
  try {
    signer = await certificate(message.SigningCertURL);
  } catch (error) {
    return `no certificate from ${message.SigningCertURL}: ${(error as Error).message}`;
  }
  if (now < Date.parse(signer.validFrom) || now > Date.parse(signer.validTo)) return 'the signing certificate is not valid now';
  const signed = SIGNED_FIELDS[message.Type]
    .filter((name) => message[name] !== undefined)
    .map((name) => `${name}\n${message[name]}\n`)
    .join('');
  const genuine = verify(algorithm, Buffer.from(signed, 'utf8'), signer.publicKey, Buffer.from(message.Signature, 'base64'));
  return genuine ? undefined : 'bad signature';
}
