/**
 * Why a recipient failed, in sisimai's taxonomy (its Sisimai::Reason names), and
 * from that whether the address itself is dead (hard) or the message failed for a
 * reason that may pass (soft). As in sisimai, only userunknown, hostunknown, hasmoved
 * and notaccept are hard, whatever the status class: a 4.1.1 user unknown names a
 * dead mailbox too. A hard bounce stops an address at once; soft ones stop it after
 * BOUNCE_SOFT_LIMIT within BOUNCE_SOFT_DAYS; a delay warning changes nothing
 * (inbound.ts).
 *
 * The order of evidence: a full mailbox, a local program's failure, a refusal at
 * MAIL FROM (about us, not the address); then a precise enhanced status code (RFC
 * 3463: x.1.1 no such user, x.1.2 no such domain, x.7.x security or policy, ...),
 * preferring the remote server's own code quoted in the diagnostic over the
 * reporting server's Status; then the wording real servers use (Postfix, Exim,
 * Sendmail, qmail, Exchange, Gmail, Yahoo, ...), since many put 5.0.0 or 5.5.0 on
 * everything.
 *
 * A "user unknown" with no x.1.x code is userunknown only when the report shows it
 * answered RCPT, or the recipient's own directory said so; otherwise it is what a
 * content filter says after DATA: filtered (soft), as sisimai's Filtered reason.
 */
export type Reason =
  | 'userunknown'
  | 'hostunknown'
  | 'hasmoved'
  | 'notaccept'
  | 'mailboxfull'
  | 'suspend'
  | 'filtered'
  | 'rejected'
  | 'blocked'
  | 'requireptr'
  | 'badreputation'
  | 'norelaying'
  | 'toomanyconn'
  | 'authfailure'
  | 'spamdetected'
  | 'virusdetected'
  | 'policyviolation'
  | 'securityerror'
  | 'contenterror'
  | 'syntaxerror'
  | 'notcompliantrfc'
  | 'mesgtoobig'
  | 'exceedlimit'
  | 'mailererror'
  | 'expired'
  | 'networkerror'
  | 'feedback'
  | 'onhold'
  | 'undefined';

const HARD_REASONS: ReadonlySet<Reason> = new Set(['userunknown', 'hostunknown', 'hasmoved', 'notaccept']);

export function isHardReason(reason: Reason): boolean {
  return HARD_REASONS.has(reason);
}

/**
 * Phrases, checked in this order: the first that matches names the reason. What
 * shows the sender or the connection was refused comes first (those servers often
 * add "recipient rejected" to any refusal), then what proves the address dead,
 * then the softer reasons. Only the first match counts, so the order of the soft
 * reasons among themselves names the reason but never makes anything hard.
 */
const PHRASES: Array<[Reason, RegExp]> = [
  [
    'mailboxfull',
    /mailbox (is )?full|mailbox exceeds (the )?allowed size|number of messages in .{0,30}mailbox exceeded|mailbox.{0,40}(over|exceed(ed|s)?) (its |the )?(quota|size|storage)|quota (exceeded|full)|over ?quota|exceed(ed|s)? (the )?(storage|quota|disk)|(storage|disk) (space )?(quota|full|exceeded)|insufficient (disk|system storage|storage)|not enough (storage|space)|user'?s? (mailbox|disk) (is )?(full|over)|mailfolder is full|out of storage|too much mail data|would exceed (the )?(mailbox|quota)|mailbox size limit/i,
  ],
  // Refusals of us, not of the address (sisimai: blocked, rejected, norelaying, ...).
  ['requireptr', /ptr record|reverse (dns|lookup)|\brdns\b|no (dns )?ptr|cannot find your hostname/i],
  ['badreputation', /reputation/i],
  [
    'norelaying',
    /(relay(ing)?|access) (denied|not permitted|prohibited)|not (allowed|permitted) to relay|relay access|unable to relay|we do not relay/i,
  ],
  ['toomanyconn', /too many (connections|messages|recipients)|rate limit|throttl/i],
  ['authfailure', /\b(spf|dkim|dmarc)\b|authentication (checks? )?(required|failed)/i],
  ['securityerror', /not authorized/i],
  [
    'rejected',
    /my name was rejected|sender (address )?(domain )?(rejected|verify failed|verification)|sender denied|domain of sender|valid from|from:? (header|domain|address) (is )?(invalid|not valid|rejected)/i,
  ],
  [
    'blocked',
    /(helo|ehlo)( command)? (rejected|refused)|(invalid|bad) (helo|ehlo)|please use the smtp server of your isp|client host .{0,80}(rejected|blocked|refused)|your (ip|host|server|domain|network|address|e-?mail)( address)? (\S+ )?(has been |is |was )?(block|blacklist|listed|reject|refus|den)|blacklist|blocklist|block ?list|spamhaus|sorbs|spamcop|\b(rbl|dnsbl)\b|(?<!not )listed (at|in|on|by) (the )?(\S+ )?(rbl|dnsbl|black|block|spam)|dynamic(ally assigned)? ip|dial-?up|residential|greylist|gray ?list/i,
  ],
  [
    'notaccept',
    /does not accept (any )?(e-?)?mail|doesn'?t accept (any )?(e-?)?mail|accepts no (e-?)?mail|null mx|no smtp service|not accept(ing)? (e-?)?mail for/i,
  ],
  ['hasmoved', /has (been )?moved|address (has )?changed|forwarding address|no longer (valid|available) at this address/i],
  ['networkerror', /name service error|try again/i],
  [
    'hostunknown',
    /unrouteable address|host (\S+ )?(or domain name )?(not found|unknown)|unknown host|domain (name )?(not found|does not exist|doesn'?t exist|unknown|is invalid)|no such domain|unknown domain|unrouteable (mail )?domain|unroutable (mail )?domain|name or service not known|nxdomain|no (valid )?mx|mx (record )?(lookup|not found)|nonexistent domain|not a valid domain|bad destination (host|system)/i,
  ],
  [
    'userunknown',
    /user ?(is )?unknown|unknown (user|recipient|address|local[- ]?part|mailbox|alias)|no such (user|mailbox|recipient|account|address|person|local user)|(user|recipient|mailbox|address|account|addressee)( name)? (\S+ )?(is )?(unknown|not found|invalid|not exist|does ?n[o']t exist|not valid|not known)|(invalid|bad|unknown|nonexistent|non-existent|not a valid) (recipient|mailbox|address|user|account|destination mailbox|user address)|(?<!may )(does ?n[o']t|not) exist|(there is )?no (mailbox|user|account) (here|by that name|with|for)|mailbox (not found|unavailable|does not)|user not (found|listed|local)|(?<!(blacklist|blocklist|spam\S*) )not listed in|not our customer|no valid recipients|address (unknown|rejected|not found)|recipient (address )?rejected|undeliverable address|invalid (e-?mail )?address|could ?n[o']t be found|no longer exists|not a known user|unknown or illegal alias|isn'?t in (our|my) (list|database)|account (does not|doesn'?t) exist|does ?n[o']t have an? .{0,60} account/i,
  ],
  [
    'suspend',
    /(account|mailbox)( that you tried to reach)? is disabled|(account|mailbox|user|address)( is| has been)? (disabled|deactivated|suspended|inactive|locked|closed|expired|on hold|frozen|not active)|(disabled|suspended|inactive|deactivated|expired) (account|mailbox|user)|is not accepting (mail|messages)|account (has been )?(terminated|discontinued)/i,
  ],
  [
    'mesgtoobig',
    /message (size )?(is )?too (big|large)|exceeds? (the )?(maximum )?(message )?size|size (limit )?exceed|message length exceeds|message too large|mail size/i,
  ],
  // The message refused by a filter or a policy.
  ['virusdetected', /virus|malware|infected/i],
  ['spamdetected', /spam|junk|bulk mail|unsolicited|suspicious|phishing/i],
  ['policyviolation', /policy|prohibited/i],
  ['notcompliantrfc', /rfc ?\d{3,4}|not compliant|header/i],
  ['syntaxerror', /syntax/i],
  ['contenterror', /content/i],
  ['securityerror', /security|permission/i],
  ['filtered', /filter|not accepted/i],
  ['rejected', /blocked|denied|refused|rejected|not (a )?member/i],
  [
    'expired',
    /expired|will be retried|still undelivered|continue trying|failed \d+ attempts|did not accept our requests to connect|too long|timed? ?out|timeout|retry time|could not be delivered (for|within)|delivery time|gave up|giving up|have been failing for|was not delivered for|queued too long/i,
  ],
  [
    'networkerror',
    /connection (refused|reset|timed out|closed|lost|dropped)|could not connect|can'?t connect|lost connection|no (smtp )?connection could be made|network|unreachable|\btls\b|\bssl\b|malformed|protocol/i,
  ],
];

/**
 * RFC 3463 subject.detail codes precise enough to decide on their own. The generic
 * ones (x.0.0, x.1.0, x.2.0, x.5.0, ...) are left to the words.
 */
const STATUS_REASONS: Record<string, Reason> = {
  '1.1': 'userunknown',
  '1.2': 'hostunknown',
  '1.3': 'userunknown',
  '1.6': 'hasmoved',
  '1.7': 'rejected',
  '1.8': 'rejected',
  '1.10': 'notaccept',
  '2.2': 'mailboxfull',
  '2.3': 'exceedlimit',
  '3.4': 'mesgtoobig',
  '4.4': 'hostunknown',
  '4.6': 'networkerror',
  '4.7': 'expired',
  // RFC 7293 (RRVS): the mailbox or domain has a new owner since we last had consent.
  '7.13': 'suspend',
  '7.17': 'hasmoved',
  '7.18': 'hasmoved',
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
  /** The Diagnostic-Code's type: smtp, or x-unix for a local program's output. */
  diagnosticType?: string | undefined;
  /** The command the reply answered, when known for certain (our own SMTP client's refusals): else read from the words. */
  command?: 'rcpt' | 'data' | undefined;
}

/**
 * One failed recipient's verdict. Hard or soft follows from the reason alone, as
 * sisimai has it: a 4.1.1 "user unknown" names a dead mailbox as surely as a 5.1.1.
 * Whether a temporary failure or a delay warning may stop anyone is for the rules
 * (inbound.ts ignores a report whose recipients are all still being tried).
 */
export function judge(evidence: Evidence): Judgement {
  const words = evidence.diagnostic.replace(/\s+/g, ' ').trim();
  const context = (evidence.context ?? '').replace(/\s+/g, ' ').trim();
  // The remote server's own code beats the reporting server's translation of it;
  // a generic DSN status (5.0.0) is no evidence at all.
  const given = evidence.status !== undefined && !/^\d\.0\.0$/.test(evidence.status) ? evidence.status : undefined;
  const status = statusIn(words) ?? given ?? statusIn(context) ?? evidence.status;
  const temporary =
    evidence.delayed === true || status?.startsWith('4') === true || (status === undefined && /^\s*4\d\d\b/.test(words || context));
  // Nothing named: a delay warning is 'expired' (the queue is still trying), as in sisimai.
  const fallback = evidence.delayed === true ? 'expired' : temporary ? 'onhold' : 'undefined';
  const reason = reasonOf(status, words, context, evidence.diagnosticType, evidence.command) ?? fallback;
  return { hard: isHardReason(reason), reason, status };
}

/**
 * Servers check recipients at RCPT. One that takes the recipient and then refuses
 * the message after DATA with a vague "user unknown" (no x.1.1) is a content filter
 * speaking; one that refuses at MAIL FROM is refusing us. The command that drew a
 * reply is the one named nearest to it: "(in reply to RCPT TO command)" after it,
 * ">>> RCPT To:<...>" on the line before.
 */
const COMMAND =
  /(?:>>>\s*|(?:in reply to|after|command:?|smtp command) (?:the )?(?:end of )?)(rcpt|data|mail from|mail|helo|ehlo)\b|(?<![a-z])(rcpt)(?:\b|_)/gi;

function commandNear(text: string, at: number): string | undefined {
  let nearest: { command: string; distance: number } | undefined;
  for (const match of text.matchAll(COMMAND)) {
    const distance = Math.abs(match.index - at);
    if (nearest === undefined || distance < nearest.distance) nearest = { command: (match[1] ?? match[2]!).toLowerCase(), distance };
  }
  return nearest?.command.startsWith('mail') === true ? 'mail' : nearest?.command;
}

/** Servers' own words for a refusal at RCPT, when no command is named. */
const RCPT_WORDS =
  /recipient (address )?rejected|rejected (the )?address|no valid recipients|does not like recipient|invalid recipient|unknown recipient|recipient (unknown|not found)/i;

/**
 * Phrases that prove the mailbox absent whatever the command: the recipient's own
 * directory or local delivery agent says it has no such user.
 */
const NO_SUCH_LOCAL_USER =
  /not listed in (the )?(domino directory|public name (&|and) address book)|(mail\.local|local delivery|lda|maildrop): (unknown|no such) user|ディレクトリ(には見つかりません|のリストにありません)/i;

/** What a local delivery program (procmail, a pipe, a Maildir writer) says when it, not the mailbox, failed. */
const LOCAL_PROGRAM_FAILED =
  /(couldn'?t|cannot|can'?t|unable to) (create|open|write|lock)|permission denied|command (output|died|failed)|exit (code|status)|temporary failure in|internal software error/i;

/**
 * Words that name a missing user, not a refusal in general ("recipient address
 * rejected" is said of policy refusals too). "Recipient address rejected: Access
 * denied" is what Microsoft's directory-based edge blocking answers for an address
 * it does not have.
 */
const NO_SUCH_USER =
  /user ?unknown|unknown (user|recipient)|no such (user|mailbox|recipient)|invalid recipient|recipient (unknown|not found)|recipient address rejected: access denied/i;

/** Where userunknown's phrase stands; before it: refusals of us, a moved address, a domain that takes no mail, no such host. */
const USER_UNKNOWN_AT = PHRASES.findIndex(([reason]) => reason === 'userunknown');

function reasonOf(
  status: string | undefined,
  words: string,
  context: string,
  diagnosticType: string | undefined,
  knownCommand: 'rcpt' | 'data' | undefined,
): Reason | undefined {
  const both = `${words} ${context}`;
  if (PHRASES[0]![1].test(words || context)) return 'mailboxfull';
  // A local program's failure (procmail, a Maildir), not a remote server's answer.
  if (diagnosticType !== undefined && /^x-(unix|postfix)$/i.test(diagnosticType) && LOCAL_PROGRAM_FAILED.test(words)) return 'mailererror';
  const userUnknownAt = both.search(PHRASES[USER_UNKNOWN_AT]![1]);
  const command = knownCommand ?? (userUnknownAt < 0 ? undefined : commandNear(both, userUnknownAt));
  // Refused at MAIL FROM: about us, not the address; the words may say why (no PTR, a block list).
  if (command === 'mail' || (command === undefined && AT_MAIL_FROM.test(both))) return softPhrase(words, context) ?? 'rejected';
  const answeredRcpt = command === 'rcpt' || (command === undefined && RCPT_WORDS.test(both));
  if (isPolicyStatus(status)) {
    const byCode = statusReason(status);
    if (byCode !== undefined) return byCode;
    // A policy code on a refusal at RCPT that says the user is unknown is about the user.
    if (answeredRcpt && NO_SUCH_USER.test(words || context)) return 'userunknown';
    return softPhrase(words, context) ?? 'securityerror';
  }
  const byStatus = statusReason(status);
  // As sisimai: an x.1.1 whose words say we were refused, or the address moved or takes no mail, is that.
  if (byStatus === 'userunknown') {
    const named = PHRASES.slice(0, USER_UNKNOWN_AT).find(([, pattern]) => pattern.test(words))?.[0];
    if (named !== undefined && named !== 'networkerror') return named;
  }
  if (byStatus !== undefined) return byStatus;
  if (NO_SUCH_LOCAL_USER.test(both)) return 'userunknown';
  const reason = phrase(words) ?? phrase(context);
  if (reason !== 'userunknown') return reason;
  return answeredRcpt ? reason : 'filtered';
}

/** The reason the words name, when it is a soft one. */
function softPhrase(words: string, context: string): Reason | undefined {
  const named = phrase(words) ?? phrase(context);
  return named !== undefined && !isHardReason(named) ? named : undefined;
}

function phrase(text: string): Reason | undefined {
  return text === '' ? undefined : PHRASES.find(([, pattern]) => pattern.test(text))?.[0];
}

const AT_MAIL_FROM = /(after|in reply to) (the )?mail from/i;

function statusReason(status: string | undefined): Reason | undefined {
  const match = status === undefined ? null : /^[245]\.(\d{1,3})\.(\d{1,3})$/.exec(status);
  if (match === null) return undefined;
  return STATUS_REASONS[`${match[1]}.${match[2]}`];
}

/**
 * Class 7 (security or policy) is about the message or the sender: soft, whatever
 * else is said, but for the RRVS codes and a refusal at RCPT that names a missing user.
 */
function isPolicyStatus(status: string | undefined): boolean {
  return status !== undefined && /^\d\.7\./.test(status);
}

/** The first enhanced status code (RFC 3463) in a text, e.g. "5.1.1" in "550 5.1.1 <a@b>: no such user". */
export function statusIn(text: string): string | undefined {
  return /(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.]*\d)/.exec(text)?.[1];
}

/** The first SMTP reply code at the start of a reply in a text, e.g. 550. */
export function replyCodeIn(text: string): string | undefined {
  return /(?:^|[\s:(>])([245][0-5]\d)(?:[\s-]|$)/.exec(text)?.[1];
}
