/**
 * Hard or soft: whether a failed recipient's address itself is dead (the mailbox or
 * its domain does not exist, it has moved, the domain takes no mail), or the message
 * failed for a reason that may pass (a full mailbox, a spam filter, a policy, a
 * timeout, a block of the sender). Only the first kind stops an address at once;
 * the second stops it after BOUNCE_SOFT_LIMIT within BOUNCE_SOFT_DAYS.
 *
 * The order of evidence: a full mailbox or a refusal at MAIL FROM (about us, not
 * the address) in the words; then a precise enhanced status code (RFC 3463: x.1.1
 * no such user, x.1.2 no such domain, x.7.x policy, ...), preferring the remote
 * server's own code quoted in the diagnostic over the reporting server's Status;
 * then the wording real servers use (Postfix, Exim, Sendmail, qmail, Exchange,
 * Gmail, Yahoo, ...), since many put 5.0.0 or 5.5.0 on everything.
 *
 * A "user unknown" with no x.1.x code counts as hard only when the report shows it
 * was the answer to RCPT: content filters answer "user unknown" after DATA, and a
 * live address must not be stopped on one ambiguous report (it still counts as a
 * soft bounce): 'filtered-unknown'.
 */
export type Reason =
  | 'user-unknown'
  | 'host-unknown'
  | 'moved'
  | 'no-mail-accepted'
  | 'mailbox-full'
  | 'disabled'
  | 'spam-or-policy'
  | 'filtered-unknown'
  | 'sender-blocked'
  | 'too-big'
  | 'expired'
  | 'network'
  | 'temporary'
  | 'other';

const HARD_REASONS: ReadonlySet<Reason> = new Set(['user-unknown', 'host-unknown', 'moved', 'no-mail-accepted']);

export function isHardReason(reason: Reason): boolean {
  return HARD_REASONS.has(reason);
}

/**
 * Phrases, checked in this order: the first that matches names the reason. What
 * shows the sender or the connection was refused comes first (those servers often
 * add "recipient rejected" to any refusal), then what proves the address dead,
 * then the softer reasons.
 */
const PHRASES: Array<[Reason, RegExp]> = [
  ['mailbox-full', /mailbox (is )?full|mailbox.{0,40}(over|exceed(ed|s)?) (its |the )?(quota|size|storage)|quota (exceeded|full)|over ?quota|exceed(ed|s)? (the )?(storage|quota|disk)|(storage|disk) (space )?(quota|full|exceeded)|insufficient (disk|system storage|storage)|not enough (storage|space)|user'?s? (mailbox|disk) (is )?(full|over)|mailfolder is full|out of storage|too much mail data|would exceed (the )?(mailbox|quota)|mailbox size limit/i],
  ['sender-blocked', /my name was rejected|(helo|ehlo)( command)? (rejected|refused)|(invalid|bad) (helo|ehlo)|please use the smtp server of your isp|client host .{0,80}(rejected|blocked|refused)|your (ip|host|server|domain|network|address|e-?mail)( address)? (\S+ )?(has been |is |was )?(block|blacklist|listed|reject|refus|den)|blacklist|blocklist|block ?list|spamhaus|sorbs|spamcop|\b(rbl|dnsbl)\b|(?<!not )listed (at|in|on|by) (the )?(\S+ )?(rbl|dnsbl|black|block|spam)|reputation|ptr record|reverse (dns|lookup)|\brdns\b|no (dns )?ptr|cannot find your hostname|dynamic(ally assigned)? ip|dial-?up|residential|(relay(ing)?|access) (denied|not permitted|prohibited)|not (allowed|permitted) to relay|relay access|unable to relay|we do not relay|too many (connections|messages|recipients)|rate limit|throttl|greylist|gray ?list|\b(spf|dkim|dmarc)\b|sender (address )?(domain )?(rejected|verify failed|verification)|sender denied|domain of sender|valid from|from:? (header|domain|address) (is )?(invalid|not valid|rejected)|authentication (required|failed)|not authorized/i],
  ['no-mail-accepted', /does not accept (any )?(e-?)?mail|doesn'?t accept (any )?(e-?)?mail|accepts no (e-?)?mail|null mx|no smtp service|not accept(ing)? (e-?)?mail for/i],
  ['moved', /has (been )?moved|address (has )?changed|forwarding address|no longer (valid|available) at this address/i],
  ['network', /name service error|try again/i],
  ['host-unknown', /unrouteable address|host (\S+ )?(or domain name )?(not found|unknown)|unknown host|domain (name )?(not found|does not exist|doesn'?t exist|unknown|is invalid)|no such domain|unknown domain|unrouteable (mail )?domain|unroutable (mail )?domain|name or service not known|nxdomain|no (valid )?mx|mx (record )?(lookup|not found)|nonexistent domain|not a valid domain|bad destination (host|system)/i],
  ['user-unknown', /user ?(is )?unknown|unknown (user|recipient|address|local[- ]?part|mailbox|alias)|no such (user|mailbox|recipient|account|address|person|local user)|(user|recipient|mailbox|address|account|addressee)( name)? (\S+ )?(is )?(unknown|not found|invalid|not exist|does ?n[o']t exist|not valid|not known)|(invalid|bad|unknown|nonexistent|non-existent|not a valid) (recipient|mailbox|address|user|account|destination mailbox|user address)|(?<!may )(does ?n[o']t|not) exist|(there is )?no (mailbox|user|account) (here|by that name|with|for)|mailbox (not found|unavailable|does not)|user not (found|listed|local)|(?<!(blacklist|blocklist|spam\S*) )not listed in|not our customer|no valid recipients|address (unknown|rejected|not found)|recipient (address )?rejected|undeliverable address|invalid (e-?mail )?address|could ?n[o']t be found|no longer exists|not a known user|unknown or illegal alias|isn'?t in (our|my) (list|database)|account (does not|doesn'?t) exist|does ?n[o']t have an? .{0,60} account/i],
  ['disabled', /(account|mailbox|user|address)( is| has been)? (disabled|deactivated|suspended|inactive|locked|closed|expired|on hold|frozen|not active)|(disabled|suspended|inactive|deactivated|expired) (account|mailbox|user)|is not accepting (mail|messages)|account (has been )?(terminated|discontinued)/i],
  ['too-big', /message (size )?(is )?too (big|large)|exceeds? (the )?(maximum )?(message )?size|size (limit )?exceed|message length exceeds|message too large|mail size/i],
  ['spam-or-policy', /spam|junk|bulk mail|unsolicited|content|policy|prohibited|not accepted|virus|malware|infected|filter|blocked|denied|refused|rejected|security|header|syntax|rfc ?\d{3,4}|not compliant|suspicious|phishing|not (a )?member|permission/i],
  ['expired', /expired|too long|timed? ?out|timeout|retry time|could not be delivered (for|within)|delivery time|gave up|giving up|have been failing for|was not delivered for|queued too long/i],
  ['network', /connection (refused|reset|timed out|closed|lost|dropped)|could not connect|can'?t connect|lost connection|no (smtp )?connection could be made|network|unreachable|\btls\b|\bssl\b|malformed|protocol/i],
];

/**
 * RFC 3463 subject.detail codes precise enough to decide on their own. The generic
 * ones (x.0.0, x.1.0, x.2.0, x.5.0, ...) are left to the words.
 */
const STATUS_REASONS: Record<string, Reason> = {
  '1.1': 'user-unknown',
  '1.2': 'host-unknown',
  '1.3': 'user-unknown',
  '1.6': 'moved',
  '1.7': 'sender-blocked',
  '1.8': 'sender-blocked',
  '1.10': 'no-mail-accepted',
  '2.2': 'mailbox-full',
  '2.3': 'too-big',
  '3.4': 'too-big',
  '4.4': 'host-unknown',
  '4.7': 'expired',
};

export interface Judgement {
  hard: boolean;
  reason: Reason;
  /** The status code the verdict rests on, when there is one. */
  status: string | undefined;
}

export interface Evidence {
  /** The DSN's Status field, e.g. 5.1.1 (written by the reporting server). */
  status?: string | undefined;
  /** The remote server's own words (Diagnostic-Code, or the reply a bounce quotes). */
  diagnostic: string;
  /** What the reporting server wrote about this recipient: its explanation, the transcript. */
  context?: string | undefined;
  /** Action: delayed, or a notice that says it will try again. */
  delayed?: boolean | undefined;
}

/**
 * One failed recipient's verdict. A temporary failure (4.x.x status, 4xx reply or a
 * delay notice) is never hard.
 */
export function judge(evidence: Evidence): Judgement {
  const words = evidence.diagnostic.replace(/\s+/g, ' ').trim();
  const context = (evidence.context ?? '').replace(/\s+/g, ' ').trim();
  const both = `${words} ${context}`;
  // The remote server's own code beats the reporting server's translation of it;
  // a generic DSN status (5.0.0) is no evidence at all.
  const given = evidence.status !== undefined && !/^\d\.0\.0$/.test(evidence.status) ? evidence.status : undefined;
  const status = statusIn(words) ?? given ?? statusIn(context) ?? evidence.status;
  const temporary =
    evidence.delayed === true || status?.startsWith('4') === true || (status === undefined && /^\s*4\d\d\b/.test(words || context));
  const reason = reasonOf(status, words, context, both) ?? (temporary ? 'temporary' : 'other');
  return { hard: !temporary && isHardReason(reason), reason, status };
}

/**
 * Servers check recipients at RCPT. One that takes the recipient and then refuses
 * the message after DATA with a vague "user unknown" (no 5.1.1) is a content filter
 * speaking; one that
 * refuses at MAIL FROM is refusing us.
 */
const AFTER_DATA = /(after|in reply to) (the )?(end of )?data|>>> data|command:? data|smtp command data/i;
const AT_MAIL_FROM = /(after|in reply to) (the )?mail from/i;
const AT_RCPT = /\brcpt(\b|_)|recipient (address )?rejected|rejected (the )?address|no valid recipients|does not like recipient|invalid recipient|unknown recipient|recipient (unknown|not found)/i;

function reasonOf(status: string | undefined, words: string, context: string, both: string): Reason | undefined {
  if (PHRASES[0]![1].test(words || context)) return 'mailbox-full';
  if (AT_MAIL_FROM.test(both)) return 'sender-blocked';
  const byStatus = statusReason(status);
  if (byStatus !== undefined) return byStatus;
  const phrase = (text: string) => (text === '' ? undefined : PHRASES.find(([, pattern]) => pattern.test(text))?.[0]);
  const reason = phrase(words) ?? phrase(context);
  if (reason !== 'user-unknown') return reason;
  return AT_RCPT.test(both) && !AFTER_DATA.test(both) ? reason : 'filtered-unknown';
}

function statusReason(status: string | undefined): Reason | undefined {
  const match = status === undefined ? null : /^[245]\.(\d{1,3})\.(\d{1,3})$/.exec(status);
  if (match === null) return undefined;
  // Class 7 (security or policy) is about the message or the sender, whatever else is said.
  if (match[1] === '7') return 'spam-or-policy';
  return STATUS_REASONS[`${match[1]}.${match[2]}`];
}

/** The first enhanced status code (RFC 3463) in a text, e.g. "5.1.1" in "550 5.1.1 <a@b>: no such user". */
export function statusIn(text: string): string | undefined {
  return /(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/.exec(text)?.[1];
}

/** The first SMTP reply code at the start of a reply in a text, e.g. 550. */
export function replyCodeIn(text: string): string | undefined {
  return /(?:^|[\s:(>])([245][0-5]\d)(?:[\s-]|$)/.exec(text)?.[1];
}
