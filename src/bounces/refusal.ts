import type { RecipientRefused } from '../mail/deliver.js';
import type { SmtpRefusal } from '../mail/transport.js';
import { applyOutcome, type BounceRules, type InboundOutcome } from './apply.js';
import { judge } from './reasons.js';

/**
 * The refusal as an outcome for the rules (apply.ts), judged by the same reasons as a
 * bounce that comes back by mail: the server's words are the same, only the command they
 * answered is known here for certain. So a "550 5.2.2 mailbox full" is soft, a "550 no
 * such user" to RCPT TO hard, and the same words after DATA a content filter's (soft).
 */
export function refusalOutcome(deliveryId: number, refusal: SmtpRefusal): InboundOutcome {
  const reply = `${refusal.code} ${refusal.text.replace(/\s+/g, ' ').trim()}`;
  const verdict = judge({ diagnostic: reply, command: refusal.command });
  const kind = verdict.hard ? 'hard' : 'soft';
  return {
    kind,
    deliveryId,
    status: verdict.status ?? String(refusal.code),
    diagnostic: reply,
    source: 'smtp',
    evidence: `${kind} bounce (${verdict.reason}): refused in reply to ${refusal.command === 'rcpt' ? 'RCPT TO' : 'DATA'}: ${reply}`,
    // A delivery is refused once: it is not tried again.
    eventKey: `smtp:${deliveryId}`,
  };
}

/**
 * What deliverQueue runs for a refused recipient (jobs/send.ts hands it in): the outcome
 * applied by the same rules as every bounce, in the transaction that fails the delivery.
 */
export function refusalRules(rules: BounceRules): RecipientRefused {
  return async (db, deliveryId, refusal) => {
    await applyOutcome(db, refusalOutcome(deliveryId, refusal), rules);
  };
}
