/**
 * How expected failures look. Only bugs throw; everything a person or a remote server
 * can cause is a value that gets recorded and reported:
 *
 * - A function that either gives its result or fails with a message returns
 *   `T | Problem` and the caller tells them apart with `isProblem` (addFeed,
 *   parseSmtpUrl, parseDkimKey, parseFeed, ...). Not `T | string`, not a `{ kind }`
 *   union with one success and one failure: those were the same thing in other shapes.
 * - A check with nothing to give on success returns its message, or undefined when all
 *   is well: `string | undefined` (checkRule, urlProblem, feedAddressProblem,
 *   checkMailFrom, rejectBytes). A caller that fails with it wraps it: `{ problem }`.
 * - A step with several expected outcomes that callers handle differently keeps a
 *   union tagged by `kind` (FetchOutcome, DiscoverOutcome, ReadOutcome) or `ok`
 *   (SendResult: a bounce, a pause or a retry are not one message). An SMTP reply with
 *   its code is a Reply, not a Problem: the code decides what happens next.
 * - A form's per-field messages are FieldErrors (src/web/forms.ts), not Problems.
 */
export interface Problem {
  problem: string;
}

export function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'problem' in value;
}
