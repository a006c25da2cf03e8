import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inboundDoorOpen, type Config } from '../../src/config/config.js';
import { createDkimSigner, type DkimSettings } from '../../src/own/dkim.js';
import { buildMessageTemplate, mailDate, personalize } from '../../src/mail/compose.js';
import { editionMessage } from '../../src/mail/deliver.js';
import type { RenderedDigest } from '../../src/render/digest.js';
import { cpuSecondsSince } from './rss.js';

/** A fresh RSA-2048 key in a temporary file, for DKIM_PRIVATE_KEY_FILE: the kind of key receivers expect. */
export function dkimEnvironment(): Record<string, string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fd-bench-dkim-')), 'dkim.pem');
  writeFileSync(file, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }), {
    mode: 0o600,
  });
  return { DKIM_DOMAIN: 'bench.example', DKIM_SELECTOR: 'bench', DKIM_PRIVATE_KEY_FILE: file };
}

export interface SignerCost {
  /** CPU milliseconds per message, signing alone, with an RSA-2048 and an Ed25519 key. */
  rsaMs: number;
  ed25519Ms: number;
}

/**
 * The signer on its own: an edition's message personalised for `count` readers up front,
 * then signed, timed in CPU. The first message of each run pays for canonicalising the
 * shared chunks, as the first of an edition does in a send.
 */
export async function signerCost(config: Config, rendered: RenderedDigest, count = 2000): Promise<SignerCost> {
  const template = await buildMessageTemplate(editionMessage(config, rendered, inboundDoorOpen(config)));
  const messages = Array.from({ length: count }, (_, n) =>
    personalize(template, {
      to: `reader${n}@bench.example`,
      date: mailDate(new Date()),
      messageId: `fd.${n}.1@bench.example`,
      unsubscribeUrl: `https://digest.bench.example/unsubscribe/${n}-token-of-some-length-abcdefghijklmnopqrstuvwxyz`,
      preferencesUrl: `https://digest.bench.example/preferences/${n}-token-of-some-length-abcdefghijklmnopqrstuvwxyz`,
      unsubscribeMailto: `mailto:digest@bench.example?subject=unsubscribe%20${n}`,
      subscribedOn: '3 March 2026',
    }),
  );
  const cost = (settings: DkimSettings) => {
    const sign = createDkimSigner(settings);
    const started = process.cpuUsage();
    for (const message of messages) sign(message);
    return (cpuSecondsSince(started) * 1000) / count;
  };
  const settings = (type: 'rsa' | 'ed25519'): DkimSettings => ({
    domain: 'bench.example',
    selector: 'bench',
    privateKey: type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey : generateKeyPairSync('ed25519').privateKey,
  });
  return { rsaMs: cost(settings('rsa')), ed25519Ms: cost(settings('ed25519')) };
}
