/**
 * The bounce corpus report: runs every message of ../shared/bounces/emails through the
 * classifier and compares each recipient row of EXPECTED.tsv (see its README) with
 * what we make of it. `npx tsx scripts/bounce-report.ts [--json] [--misses]`.
 *
 * A row is compared with the recipient at the same index in our verdict; when we find
 * fewer recipients than the report lists, with the message's overall kind. Kinds:
 * hard, soft, complaint, auto-reply, not-bounce.
 *
 * Two figures, and a third for the reason:
 * - "kind": bounce (hard or soft), complaint, auto-reply or not a bounce. This is what
 *   the message is, and what decides whether anything may act on it at all.
 * - "split": the same, with hard and soft told apart, as sisimai decides them from the
 *   reason it infers (see src/bounces/reasons.ts). The disagreements left are listed
 *   by --misses: mostly a vague "user unknown" that sisimai's per-server parsers call
 *   userunknown for some servers and filtered for others, with nothing in the
 *   message itself to tell them apart.
 * - how often the reason we infer is sisimai's (same names), over the bounce rows.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { classifyMessage, type Classification } from '../src/bounces/classify.js';
import { projectRoot } from '../src/paths.js';

export const bounceCorpusDir = path.resolve(projectRoot, '../shared/bounces');

export const KINDS = ['hard', 'soft', 'complaint', 'auto-reply', 'not-bounce'] as const;
export type ExpectedKind = (typeof KINDS)[number];

export interface RowResult {
  file: string;
  index: number;
  expected: ExpectedKind;
  got: string;
  reason: string;
  status: string;
  /** The reason we infer for that recipient (sisimai's names); empty when we found no such recipient. */
  gotReason: string;
  /** Our reading of that recipient: reason, status, diagnostic. */
  detail: string;
}

export interface FileVerdict {
  file: string;
  classification: Classification;
}

interface ExpectedRow {
  file: string;
  index: number;
  reason: string;
  status: string;
  kind: ExpectedKind;
}

function expectedRows(): ExpectedRow[] {
  const lines = readFileSync(path.join(bounceCorpusDir, 'EXPECTED.tsv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [file, index, status, , reason, , kind] = line.split('\t');
    return { file: file!, index: Number(index), status: status ?? '', reason: reason ?? '', kind: kind as ExpectedKind };
  });
}

export async function runBounceCorpus(): Promise<{ rows: RowResult[]; files: FileVerdict[] }> {
  const expected = expectedRows();
  const files: FileVerdict[] = [];
  for (const file of readdirSync(path.join(bounceCorpusDir, 'emails')).sort()) {
    const raw = readFileSync(path.join(bounceCorpusDir, 'emails', file));
    files.push({ file, classification: await classifyMessage(raw) });
  }
  const byFile = new Map(files.map((f) => [f.file, f.classification]));
  const rows = expected.map((row) => {
    const verdict = byFile.get(row.file);
    const recipient = verdict?.recipients[row.index - 1];
    const got =
      verdict === undefined
        ? 'missing'
        : (verdict.kind === 'hard' || verdict.kind === 'soft') && recipient !== undefined
          ? recipient.kind
          : verdict.kind;
    const detail =
      recipient === undefined
        ? (verdict?.summary ?? '')
        : [recipient.reason, recipient.status, recipient.diagnostic].filter(Boolean).join(' ');
    const gotReason = recipient?.reason ?? '';
    return { file: row.file, index: row.index, expected: row.kind, got, reason: row.reason, status: row.status, gotReason, detail };
  });
  return { rows, files };
}

export interface KindSummary {
  kind: ExpectedKind;
  rows: number;
  matched: number;
  /** Rows whose kind matched with hard and soft counted as one (a bounce). */
  sameKind: number;
  /** What the misses were classified as. */
  misses: Record<string, number>;
}

/** Hard and soft are both a bounce: the kind of message, before the split. */
export function sameKind(expected: string, got: string): boolean {
  const bounce = (k: string) => k === 'hard' || k === 'soft';
  return expected === got || (bounce(expected) && bounce(got));
}

export function summarizeRows(rows: RowResult[]): KindSummary[] {
  return KINDS.map((kind) => {
    const ofKind = rows.filter((r) => r.expected === kind);
    const misses: Record<string, number> = {};
    for (const r of ofKind) if (r.got !== kind) misses[r.got] = (misses[r.got] ?? 0) + 1;
    return {
      kind,
      rows: ofKind.length,
      matched: ofKind.filter((r) => r.got === kind).length,
      sameKind: ofKind.filter((r) => sameKind(kind, r.got)).length,
      misses,
    };
  });
}

const percent = (n: number, of: number) => (of === 0 ? '-' : `${((100 * n) / of).toFixed(1)}%`);

export function formatBounceReport(summary: KindSummary[]): string {
  const total = summary.reduce((sum, s) => sum + s.rows, 0);
  const matched = summary.reduce((sum, s) => sum + s.matched, 0);
  const kinds = summary.reduce((sum, s) => sum + s.sameKind, 0);
  const lines = [
    '| expected | rows | right kind (bounce, complaint, auto-reply, not a bounce) | right with hard/soft split | classified instead |',
    '|---|---:|---:|---:|---|',
  ];
  for (const s of summary) {
    const instead =
      Object.entries(s.misses)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || '-';
    lines.push(
      `| ${s.kind} | ${s.rows} | ${s.sameKind} (${percent(s.sameKind, s.rows)}) | ${s.matched} (${percent(s.matched, s.rows)}) | ${instead} |`,
    );
  }
  lines.push(`| all | ${total} | ${kinds} (${percent(kinds, total)}) | ${matched} (${percent(matched, total)}) | |`);
  return lines.join('\n');
}

/** How often the reason we infer for a failed recipient is sisimai's, over the bounce rows. */
export function formatReasonAgreement(rows: RowResult[]): string {
  const bounces = rows.filter((r) => r.expected === 'hard' || r.expected === 'soft');
  const same = bounces.filter((r) => r.gotReason === r.reason).length;
  return `reason (sisimai's names) as sisimai's: ${same} of ${bounces.length} bounce rows (${percent(same, bounces.length)})`;
}

async function main(): Promise<void> {
  if (!existsSync(bounceCorpusDir)) {
    console.error(`${bounceCorpusDir} is absent`);
    process.exitCode = 1;
    return;
  }
  const { rows } = await runBounceCorpus();
  const summary = summarizeRows(rows);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ summary, rows }, null, 2));
  else console.log(`${formatBounceReport(summary)}\n\n${formatReasonAgreement(rows)}`);
  if (process.argv.includes('--misses')) {
    for (const r of rows.filter((row) => row.got !== row.expected)) {
      console.log(`${r.file}#${r.index}: expected ${r.expected} (${r.reason} ${r.status}), got ${r.got}: ${r.detail.slice(0, 160)}`);
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
