import type { Command } from 'commander';
import type { RuleField } from '../../db/schema.js';
import { addRule, describeRule, feedIdOf, listRules, removeRule, RULE_FIELDS, testRules } from '../../feeds/rules.js';
import { withContext } from '../context.js';
import { CliProblem, printRows, unwrap } from '../output.js';

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new CliProblem(`--last takes 1 to 10000, got ${value}`);
  return count;
}

interface AddOptions {
  feed?: string;
  site?: boolean;
  field: string;
  word?: string;
  regex?: string;
}

/** `feeds rules ...`: keep/block rules per feed or for the whole site. */
export function registerRuleCommands(feeds: Command): void {
  const rules = feeds.command('rules').description('keep or block posts by title, content, author, category or URL');

  rules
    .command('add <action>')
    .description('add a rule: keep (only posts that match are kept) or block (posts that match are dropped)')
    .option('--feed <urlOrId>', 'for one feed')
    .option('--site', 'for every feed')
    .requiredOption('--field <field>', RULE_FIELDS.join('|'))
    .option('--word <word>', 'a whole word or phrase, any case')
    .option('--regex <regex>', 'a regular expression (case-insensitive), checked when saved')
    .action((action: string, options: AddOptions) =>
      withContext(async ({ db }) => {
        if (action !== 'keep' && action !== 'block') throw new CliProblem(`the action is keep or block, got ${action}`);
        if ((options.feed === undefined) === (options.site !== true)) throw new CliProblem('give --feed URL|ID or --site');
        if ((options.word === undefined) === (options.regex === undefined)) throw new CliProblem('give --word W or --regex R');
        const feedId = options.feed === undefined ? null : unwrap(await feedIdOf(db, options.feed));
        const rule = unwrap(
          await addRule(db, {
            feedId,
            action,
            field: options.field as RuleField,
            kind: options.word === undefined ? 'regex' : 'word',
            pattern: options.word ?? options.regex!,
          }),
        );
        console.log(
          `Added ${describeRule(rule)} (${feedId === null ? 'every feed' : `feed ${feedId}`}); it applies to posts fetched from now on.`,
        );
      }),
    );

  rules
    .command('list')
    .description('list rules')
    .option('--feed <urlOrId>', 'only those that apply to this feed')
    .option('--json', 'print JSON')
    .action((options: { feed?: string; json?: boolean }) =>
      withContext(async ({ db }) => {
        const feedId = options.feed === undefined ? undefined : unwrap(await feedIdOf(db, options.feed));
        printRows(
          await listRules(db, feedId),
          [
            { header: 'ID', value: (r) => r.id },
            { header: 'FEED', value: (r) => r.feed_url ?? '(site)' },
            { header: 'ACTION', value: (r) => r.action },
            { header: 'FIELD', value: (r) => r.field },
            { header: 'KIND', value: (r) => r.kind },
            { header: 'PATTERN', value: (r) => r.pattern },
          ],
          options,
        );
      }),
    );

  rules
    .command('remove <id>')
    .description('remove a rule (posts it filtered stay filtered)')
    .action((id: string) =>
      withContext(async ({ db }) => {
        if (!/^\d+$/.test(id) || !(await removeRule(db, Number(id)))) throw new CliProblem(`no rule ${id}`);
        console.log(`Removed rule ${id}.`);
      }),
    );

  rules
    .command('test')
    .description('show which of the last posts each rule keeps or drops, as the rules are now')
    .option('--feed <urlOrId>', 'posts of this feed only')
    .option('--last <n>', 'how many posts', parseCount, 20)
    .option('--json', 'print JSON')
    .action((options: { feed?: string; last: number; json?: boolean }) =>
      withContext(async ({ db }) => {
        const feedId = options.feed === undefined ? undefined : unwrap(await feedIdOf(db, options.feed));
        printRows(
          await testRules(db, { feedId, last: options.last }),
          [
            { header: 'POST', value: (r) => r.item_id },
            { header: 'VERDICT', value: (r) => r.verdict },
            {
              header: 'RULES',
              value: (r) =>
                r.rules.map((rule) => `${rule.rule}:${rule.matches ? (rule.action === 'keep' ? 'keeps' : 'drops') : '-'}`).join(' '),
            },
            { header: 'TITLE', value: (r) => r.title },
            { header: 'WHY', value: (r) => r.reason },
          ],
          options,
        );
      }),
    );
}
