import safeRegex from 'safe-regex2';
import type { Db } from '../db/connect.js';
import type { FilterRule, RuleAction, RuleField, RuleKind } from '../db/schema.js';
import type { Problem } from '../problem.js';
import { feedKey } from './store.js';

/**
 * Keep/block rules. A regular expression runs on Node's backtracking engine, so a rule
 * must never be able to stall a fetch: patterns that can backtrack catastrophically
 * (nested or overlapping quantifiers, as safe-regex2 judges by star height and repetition
 * count) and backreferences are refused when saved, and every field a rule reads is cut to
 * MAX_INPUT characters, which bounds what any accepted pattern can cost.
 */

export const RULE_FIELDS: readonly RuleField[] = ['title', 'content', 'author', 'category', 'url'];
export const MAX_INPUT = 4000;
const MAX_PATTERN = 500;

/** What a rule is checked against: the stored post's fields. */
export interface RuleSubject {
  title: string;
  contentHtml: string;
  author: string | null;
  categories: string[];
  url: string | null;
}

export interface RuleInput {
  feedId: number | null;
  action: RuleAction;
  field: RuleField;
  kind: RuleKind;
  pattern: string;
}

type Matcher = (text: string) => boolean;

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A word or phrase, whole, any case; letters and digits of any script count as word characters. */
function wordMatcher(word: string): Matcher {
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegex(word.trim()).replace(/\s+/g, '\\s+')}(?![\\p{L}\\p{N}_])`, 'iu');
  return (text) => pattern.test(text);
}

/** Why a pattern is refused, or the compiled expression. */
function compileRegex(pattern: string): RegExp | Problem {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'iu');
  } catch (error) {
    return { problem: `not a valid regular expression: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (/\\[1-9]|\\k</.test(pattern))
    return { problem: 'regular expressions with backreferences are not allowed: they can take exponential time' };
  if (!safeRegex(regex))
    return {
      problem: `regular expression ${pattern} could take exponential time on some text (a repeated group inside a repetition): simplify it, e.g. (a+)+ to a+`,
    };
  return regex;
}

/** What is wrong with a rule, in a line, or undefined when it can be saved. */
export function checkRule(input: RuleInput): string | undefined {
  const pattern = input.pattern.trim();
  if (pattern === '') return 'a rule needs a word or a regular expression';
  if (pattern.length > MAX_PATTERN) return `a rule's pattern is at most ${MAX_PATTERN} characters`;
  if (!RULE_FIELDS.includes(input.field)) return `--field must be one of ${RULE_FIELDS.join(', ')}`;
  if (input.kind === 'regex') {
    const compiled = compileRegex(pattern);
    if (!(compiled instanceof RegExp)) return compiled.problem;
  }
  return undefined;
}

function matcherOf(rule: FilterRule): Matcher {
  if (rule.kind === 'word') return wordMatcher(rule.pattern);
  const compiled = compileRegex(rule.pattern);
  // Checked when saved; a rule that no longer compiles (another Node) matches nothing.
  return compiled instanceof RegExp ? (text) => compiled.test(text) : () => false;
}

function plainContent(html: string): string {
  // Linear on any input: tags out, entities left as they are.
  return html
    .slice(0, MAX_INPUT * 4)
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ');
}

function fieldTexts(subject: RuleSubject, field: RuleField): string[] {
  switch (field) {
    case 'title':
      return [subject.title];
    case 'content':
      return [plainContent(subject.contentHtml)];
    case 'author':
      return subject.author === null ? [] : [subject.author];
    case 'category':
      return subject.categories;
    case 'url':
      return subject.url === null ? [] : [subject.url];
  }
}

export function describeRule(rule: Pick<FilterRule, 'id' | 'action' | 'field' | 'kind' | 'pattern'>): string {
  return `rule ${rule.id}: ${rule.action} ${rule.field} ${rule.kind === 'regex' ? `/${rule.pattern}/` : `"${rule.pattern}"`}`;
}

export interface CompiledRule {
  rule: FilterRule;
  matches: (subject: RuleSubject) => boolean;
}

export function compileRules(rules: FilterRule[]): CompiledRule[] {
  return rules.map((rule) => {
    const matcher = matcherOf(rule);
    return { rule, matches: (subject) => fieldTexts(subject, rule.field).some((text) => matcher(text.slice(0, MAX_INPUT))) };
  });
}

/**
 * Null when the post passes, else the rule that filters it: the first block rule it
 * matches; or, where keep rules apply, the first keep rule when it matches none of them.
 */
export function filterVerdict(rules: CompiledRule[], subject: RuleSubject): string | null {
  const blocking = rules.find((compiled) => compiled.rule.action === 'block' && compiled.matches(subject));
  if (blocking !== undefined) return describeRule(blocking.rule);
  const keeps = rules.filter((compiled) => compiled.rule.action === 'keep');
  if (keeps.length > 0 && !keeps.some((compiled) => compiled.matches(subject)))
    return `no keep rule matched (${keeps.map((k) => k.rule.id).join(', ')})`;
  return null;
}

// ---- storage

export async function addRule(db: Db, input: RuleInput): Promise<FilterRule | Problem> {
  const problem = checkRule(input);
  if (problem !== undefined) return { problem };
  return db
    .insertInto('filter_rules')
    .values({ feed_id: input.feedId, action: input.action, field: input.field, kind: input.kind, pattern: input.pattern.trim() })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function feedIdOf(db: Db, urlOrId: string): Promise<number | Problem> {
  const feed = await db.selectFrom('feeds').select('id').where(feedKey(urlOrId)).executeTakeFirst();
  return feed?.id ?? { problem: `no feed ${urlOrId}` };
}

export interface RuleListing extends FilterRule {
  feed_url: string | null;
}

export async function listRules(db: Db, feedId?: number): Promise<RuleListing[]> {
  let query = db
    .selectFrom('filter_rules as r')
    .leftJoin('feeds as f', 'f.id', 'r.feed_id')
    .selectAll('r')
    .select('f.url as feed_url')
    .orderBy('r.id');
  if (feedId !== undefined) query = query.where((eb) => eb.or([eb('r.feed_id', '=', feedId), eb('r.feed_id', 'is', null)]));
  return query.execute();
}

export async function removeRule(db: Db, id: number): Promise<boolean> {
  const result = await db.deleteFrom('filter_rules').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** The rules that apply to one feed: its own and the site-wide ones. */
export async function rulesForFeed(db: Db, feedId: number): Promise<CompiledRule[]> {
  const rules = await db
    .selectFrom('filter_rules')
    .selectAll()
    .where((eb) => eb.or([eb('feed_id', '=', feedId), eb('feed_id', 'is', null)]))
    .orderBy('id')
    .execute();
  return compileRules(rules);
}

export interface RuleTestRow {
  item_id: number;
  feed_id: number;
  title: string;
  /** Per rule that applies to the post's feed: whether it matches, and so keeps or drops it. */
  rules: Array<{ rule: number; action: RuleAction; matches: boolean }>;
  verdict: 'kept' | 'dropped';
  reason: string | null;
}

/** What the rules (as they are now) make of the last `last` posts of a feed, or of every feed. */
export async function testRules(db: Db, options: { feedId?: number; last: number }): Promise<RuleTestRow[]> {
  let query = db
    .selectFrom('items')
    .select(['id', 'feed_id', 'title', 'content_html', 'author', 'categories', 'url'])
    .orderBy('first_seen_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.last);
  if (options.feedId !== undefined) query = query.where('feed_id', '=', options.feedId);
  const items = await query.execute();
  const byFeed = new Map<number, CompiledRule[]>();
  const rows: RuleTestRow[] = [];
  for (const item of items) {
    if (!byFeed.has(item.feed_id)) byFeed.set(item.feed_id, await rulesForFeed(db, item.feed_id));
    const rules = byFeed.get(item.feed_id)!;
    const subject: RuleSubject = {
      title: item.title,
      contentHtml: item.content_html,
      author: item.author,
      categories: item.categories,
      url: item.url,
    };
    const reason = filterVerdict(rules, subject);
    rows.push({
      item_id: item.id,
      feed_id: item.feed_id,
      title: item.title,
      rules: rules.map((compiled) => ({ rule: compiled.rule.id, action: compiled.rule.action, matches: compiled.matches(subject) })),
      verdict: reason === null ? 'kept' : 'dropped',
      reason,
    });
  }
  return rows;
}
