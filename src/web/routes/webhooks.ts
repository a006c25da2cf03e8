import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { applyOutcome, type InboundOutcome } from '../../bounces/apply.js';
import { mailgunOutcome, mailgunVerifier } from '../../bounces/webhooks/mailgun.js';
import { postmarkAuthorized, postmarkOutcome } from '../../bounces/webhooks/postmark.js';
import { sesOutcomes } from '../../bounces/webhooks/ses.js';
import { deliveryOfSender, deliveryOfTag } from '../../bounces/webhooks/verp.js';
import {
  certificateCache,
  fetchCertificateOverHttps,
  isSnsUrl,
  parseSnsMessage,
  snsMessageProblem,
  type CertificateFetcher,
} from '../../bounces/webhooks/sns.js';
import { sendNotFound, type WebContext } from '../context.js';

export interface WebhookOptions {
  /** Where SNS signing certificates come from (tests serve their own); default: https. */
  fetchCertificate?: CertificateFetcher;
  /** Visits an SNS SubscribeURL when WEBHOOK_SES_CONFIRM_SUBSCRIPTIONS is on; default: an https GET. */
  confirmSubscription?: (url: string) => Promise<void>;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;

/** Provider payloads are larger than any form (SES includes the mail's headers). */
const WEBHOOK_BODY_BYTES = 256 * 1024;

/**
 * POST /webhooks/<provider>: bounce, complaint and delivery events from Amazon SES
 * (through SNS), Mailgun and Postmark, each verified as the provider documents it and
 * applied through applyOutcome, like bounces that arrive by mail. The delivery is named
 * by our signed VERP envelope sender when the provider reports it (SES, Mailgun), or by
 * the signed tag we sent as Postmark metadata, else by our Message-ID, else the
 * subscriber by address. A provider with no settings answers
 * 404, as any unknown page. A forged or stale call is refused before anything is read
 * from it; a replayed one is refused (Mailgun's used token) or acts once (its event key).
 */
export function registerWebhookRoutes(app: FastifyInstance, ctx: WebContext, options: WebhookOptions = {}): void {
  const handlers = new Map<string, Handler>();
  const { ses, mailgun, postmark } = ctx.config.webhooks;
  const deliveryOf = deliveryOfSender(ctx.config);
  const apply = async (outcomes: InboundOutcome[]) => {
    for (const outcome of outcomes) await applyOutcome(ctx.db, outcome, ctx.config);
  };
  const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, reason: string) => {
    request.log.warn({ provider: (request.params as { provider: string }).provider, reason }, 'webhook call refused');
    return reply
      .code(status)
      .type('text/plain; charset=utf-8')
      .send(`${status === 401 ? 'Unauthorized' : 'Forbidden'}\n`);
  };
  const done = (reply: FastifyReply, outcomes: number) => reply.code(200).send({ outcomes });

  if (ses !== undefined) {
    const certificate = certificateCache(options.fetchCertificate ?? fetchCertificateOverHttps);
    const confirm = options.confirmSubscription ?? visit;
    handlers.set('ses', async (request, reply) => {
      const message = parseSnsMessage(request.body);
      if (message === undefined) return reply.code(400).send({ error: 'not an SNS message' });
      const problem = await snsMessageProblem(message, ses.topicArns, certificate);
      if (problem !== undefined) return refuse(request, reply, 403, problem);
      if (message.Type === 'UnsubscribeConfirmation') {
        request.log.warn({ topic: message.TopicArn }, 'SNS: this URL was unsubscribed from the topic');
        return done(reply, 0);
      }
      if (message.Type === 'SubscriptionConfirmation') {
        const url = message.SubscribeURL ?? '';
        const confirming = ses.confirmSubscriptions && isSnsUrl(url);
        request.log.info(
          { topic: message.TopicArn, subscribeUrl: url },
          confirming
            ? 'SNS subscription: confirming it'
            : 'SNS subscription: open subscribeUrl once to confirm it (or set WEBHOOK_SES_CONFIRM_SUBSCRIPTIONS=true)',
        );
        if (confirming) await confirm(url);
        return done(reply, 0);
      }
      let notification: unknown;
      try {
        notification = JSON.parse(message.Message);
      } catch {
        // Genuine but not SES's: answering an error would only make SNS send it again.
        request.log.warn({ messageId: message.MessageId }, 'SNS notification is not an SES event; ignored');
        return done(reply, 0);
      }
      const outcomes = sesOutcomes(notification, message.MessageId, deliveryOf);
      await apply(outcomes);
      return done(reply, outcomes.length);
    });
  }
  if (mailgun !== undefined) {
    const verifier = mailgunVerifier(mailgun.signingKey);
    handlers.set('mailgun', async (request, reply) => {
      const problem = verifier.problem(request.body);
      if (problem !== undefined) return refuse(request, reply, 403, problem);
      const outcome = mailgunOutcome(request.body, deliveryOf);
      await apply(outcome === undefined ? [] : [outcome]);
      return done(reply, outcome === undefined ? 0 : 1);
    });
  }
  if (postmark !== undefined) {
    const deliveryOfPostmarkTag = deliveryOfTag(ctx.config);
    handlers.set('postmark', async (request, reply) => {
      if (!postmarkAuthorized(request.headers.authorization, postmark.user, postmark.password)) {
        reply.header('www-authenticate', 'Basic realm="feed-digest webhooks"');
        return refuse(request, reply, 401, 'wrong or missing basic auth');
      }
      const outcome = postmarkOutcome(request.body, deliveryOfPostmarkTag);
      await apply(outcome === undefined ? [] : [outcome]);
      return done(reply, outcome === undefined ? 0 : 1);
    });
  }

  app.post<{ Params: { provider: string } }>(
    '/webhooks/:provider',
    // Providers post many events from few addresses; each call is authenticated instead.
    { bodyLimit: WEBHOOK_BODY_BYTES, config: { rateLimit: false } },
    async (request, reply) => {
      const handler = handlers.get(request.params.provider);
      return handler === undefined ? sendNotFound(ctx, reply) : handler(request, reply);
    },
  );
}

async function visit(url: string): Promise<void> {
  const response = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
}
