import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { bounceCorpusDir, formatBounceReport, runBounceCorpus, sameKind, summarizeRows } from '../../scripts/bounce-report.js';

/**
 * Every message of ../shared/bounces (real bounces, complaints and auto-replies from
 * many servers, with sisimai's verdict per recipient) through the classifier.
 */
const present = existsSync(bounceCorpusDir);
if (!present) console.log(`# bounce corpus test skipped: ${bounceCorpusDir} is absent`);

test(
  'the classifier gets the outcome (hard/soft split included) of at least 95% of the corpus rows right, and never calls a complaint or a non-bounce a bounce',
  { skip: present ? false : `${bounceCorpusDir} is absent` },
  async () => {
    // See scripts/bounce-report.ts for why there are two figures.
    const { rows, files } = await runBounceCorpus();
    const summary = summarizeRows(rows);
    console.log(
      formatBounceReport(summary)
        .split('\n')
        .map((line) => `# ${line}`)
        .join('\n'),
    );

    assert.equal(rows.length, 431);
    assert.ok(
      rows.every((r) => r.got !== 'missing'),
      'every expected file is in the corpus',
    );
    const kinds = rows.filter((r) => sameKind(r.expected, r.got)).length;
    assert.ok(kinds / rows.length >= 0.95, `${kinds}/${rows.length} rows of the expected kind`);
    // The full outcome: hard and soft told apart, as sisimai decides them from the reason.
    const split = rows.filter((r) => r.got === r.expected).length;
    assert.ok(
      split / rows.length >= 0.95,
      `${split}/${rows.length} rows with the expected outcome (hard/soft/complaint/auto-reply/not-bounce)`,
    );

    // Nothing that is not a bounce may stop an address.
    const neverBounce = rows.filter(
      (r) => (r.expected === 'complaint' || r.expected === 'not-bounce') && (r.got === 'hard' || r.got === 'soft'),
    );
    assert.deepEqual(
      neverBounce.map((r) => `${r.file}: ${r.got}`),
      [],
    );
    const notBounceFiles = new Set(rows.filter((r) => r.expected === 'not-bounce' || r.expected === 'complaint').map((r) => r.file));
    for (const { file, classification } of files) {
      if (notBounceFiles.has(file))
        assert.ok(
          classification.recipients.every((r) => r.kind !== 'hard'),
          file,
        );
    }
  },
);
