/**
 * The corpus report: serves every file of ../shared/feeds from a local HTTP server (with the
 * headers of feedparser's MANIFEST.tsv), runs the real fetch, decode, parse, normalize and
 * sanitize path on each, and compares the result with the expected values of the four
 * upstream suites. `npx tsx scripts/corpus-report.ts [--json]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeHTML } from 'entities';
import { loadConfig, type Config } from '../src/config/config.js';
import { documentBase, fetchFeed } from '../src/feeds/fetch.js';
import type { PreparedItem } from '../src/feeds/normalize.js';
import { ingestFeed, type IngestOutcome } from '../src/feeds/pipeline.js';
import { projectRoot } from '../src/paths.js';

export const corpusDir = path.resolve(projectRoot, '../shared/feeds');
/** Expected URLs of feedparser's http tests use the address its own test server had. */
const FEEDPARSER_ORIGIN = 'http://127.0.0.1:8097';

export const METRICS = ['feedTitle', 'postTitle', 'postLink', 'date', 'postCount'] as const;
export type Metric = (typeof METRICS)[number];

interface Expectation {
  metric: Metric;
  /** Index of the post, for post metrics. */
  index?: number;
  value: string | number;
  /** Title prefixes (node-feedparser's "title starts"). */
  prefix?: boolean;
}

export interface FileResult {
  path: string;
  group: string;
  outcome: string;
  ingested: boolean;
  reason?: string;
  posts: number;
  /** Executable markup found in stored HTML or titles (must stay empty). */
  executable: string[];
  checks: Array<{ metric: Metric; expected: string | number; actual: string | number | undefined; ok: boolean }>;
}

export interface GroupReport {
  group: string;
  files: number;
  ingested: number;
  rejected: Record<string, number>;
  matched: Record<Metric, { matched: number; total: number }>;
}

// ---- expected values

function tsv(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t'));
}

function pythonString(literal: string): string {
  return literal.replace(/\\\\/g, '\\').replace(/\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|n|t|'|"|\\)/g, (_all, code: string) => {
    if (code === 'n') return '\n';
    if (code === 't') return '\t';
    if (code.length > 1) return String.fromCharCode(parseInt(code.slice(1), 16));
    return code;
  });
}

const PY_LITERAL = `'(?:[^'\\\\]|\\\\.)*'`;
/** A Python string literal, or several joined with + (feedparser splits "--" so as not to end its comment). */
const PY_STRING = `(${PY_LITERAL}(?:\\s*\\+\\s*${PY_LITERAL})*)`;

function feedparserExpectations(expect: string): Expectation[] {
  const found: Expectation[] = [];
  const add = (metric: Metric, pattern: string, index?: number) => {
    for (const match of expect.matchAll(new RegExp(pattern, 'g'))) {
      const literals = [...match[1]!.matchAll(new RegExp(PY_LITERAL, 'g'))].map((literal) => pythonString(literal[0].slice(1, -1)));
      found.push({ metric, index, value: literals.join('') });
    }
  };
  add('feedTitle', `feed(?:\\['title'\\]|\\.title) == ${PY_STRING}`);
  add('postTitle', `entries\\[0\\](?:\\['title'\\]|\\.title) == ${PY_STRING}`, 0);
  add('postLink', `entries\\[0\\](?:\\['link'\\]|\\.link) == ${PY_STRING}`, 0);
  for (const match of expect.matchAll(
    /entries\[0\]\['(?:updated|published|created|issued|modified|date)_parsed'\] == \((\d+), (\d+), (\d+), (\d+), (\d+), (\d+)/g,
  )) {
    const [, y, mo, d, h, mi, s] = match.map(Number);
    found.push({ metric: 'date', index: 0, value: new Date(Date.UTC(y!, mo! - 1, d, h, mi, s)).toISOString() });
  }
  for (const match of expect.matchAll(/len\(entries\) == (\d+)/g)) found.push({ metric: 'postCount', value: Number(match[1]) });
  return found;
}

function rssParserExpectations(file: string): Expectation[] {
  const { feed } = JSON.parse(readFileSync(file, 'utf8')) as {
    feed: { title?: unknown; items?: Array<{ title?: unknown; link?: unknown; isoDate?: string }> };
  };
  const found: Expectation[] = [];
  if (typeof feed.title === 'string') found.push({ metric: 'feedTitle', value: feed.title });
  const items = feed.items ?? [];
  found.push({ metric: 'postCount', value: items.length });
  items.forEach((item, index) => {
    if (typeof item.title === 'string') found.push({ metric: 'postTitle', index, value: item.title });
    if (typeof item.link === 'string') found.push({ metric: 'postLink', index, value: item.link });
    if (item.isoDate) found.push({ metric: 'date', index, value: item.isoDate });
  });
  return found;
}

interface FeedRsText {
  content?: string;
}
interface FeedRsEntry {
  title?: FeedRsText | null;
  links?: Array<{ href: string; rel: string | null }>;
  published?: string | null;
  updated?: string | null;
}

function feedRsExpectations(file: string): Expectation[] {
  const model = JSON.parse(readFileSync(file, 'utf8')) as { title?: FeedRsText | null; entries?: FeedRsEntry[] };
  const found: Expectation[] = [];
  if (model.title?.content) found.push({ metric: 'feedTitle', value: model.title.content });
  const entries = model.entries ?? [];
  found.push({ metric: 'postCount', value: entries.length });
  entries.forEach((entry, index) => {
    if (entry.title?.content) found.push({ metric: 'postTitle', index, value: entry.title.content });
    const link = entry.links?.find((l) => l.rel === null || l.rel === 'alternate');
    if (link) found.push({ metric: 'postLink', index, value: link.href });
    const date = entry.published ?? entry.updated;
    if (date) found.push({ metric: 'date', index, value: new Date(date).toISOString() });
  });
  return found;
}

function nodeFeedparserExpectations(rows: Map<string, string>, file: string): Expectation[] {
  let text = rows.get(file) ?? '';
  const same = text.match(/^same as (\S+)/);
  if (same) text = rows.get(same[1]!) ?? '';
  const found: Expectation[] = [];
  const count = text.match(/(?:^|exactly |, )(\d+) items?\b/);
  if (count) found.push({ metric: 'postCount', value: Number(count[1]) });
  const channel = text.match(/channel title '([^']+)'/);
  if (channel) found.push({ metric: 'feedTitle', value: channel[1]! });
  const link =
    text.match(/(?:first item|item) link == '([^']+)'/) ??
    text.match(/first (?:two )?links? '([^']+)'/) ??
    text.match(/, first link '([^']+)'/);
  if (link) found.push({ metric: 'postLink', index: 0, value: link[1]! });
  const title = text.match(/(?:^|; )title (==|starts) '([^']+)'/);
  if (title) found.push({ metric: 'postTitle', index: 0, value: title[2]!, prefix: title[1] === 'starts' });
  return found;
}

// ---- comparing

function comparable(value: string): string {
  return decodeHTML(value.replace(/<[^>]*>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

function actualValue(expectation: Expectation, feedTitle: string | undefined, items: PreparedItem[]): string | number | undefined {
  const item = expectation.index === undefined ? undefined : items[expectation.index];
  switch (expectation.metric) {
    case 'feedTitle':
      return feedTitle;
    case 'postTitle':
      return item?.title;
    case 'postLink':
      return item?.url ?? undefined;
    case 'date':
      return item?.publishedAt?.toISOString();
    case 'postCount':
      return items.length;
  }
}

/** Upstream golden files that read latin-1 as UTF-8 hold U+FFFD: it stands for any one character. */
function textMatches(actual: string, expected: string, prefix: boolean): boolean {
  if (!expected.includes('\ufffd')) return prefix ? actual.startsWith(expected) : actual === expected;
  const pattern = expected
    .split('\ufffd')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.');
  return new RegExp(`^${pattern}${prefix ? '' : '$'}`, 'u').test(actual);
}

function matches(expectation: Expectation, actual: string | number | undefined, documentUrl: string): boolean {
  if (actual === undefined) return expectation.value === '';
  if (typeof expectation.value === 'number') return actual === expectation.value;
  if (expectation.metric === 'date') return String(actual).slice(0, 19) === expectation.value.slice(0, 19);
  if (expectation.metric === 'postLink') {
    // rss-parser's golden files keep relative links as written; we resolve them.
    return (
      actual === expectation.value || actual === new URL(expectation.value, documentUrl).href || String(actual).endsWith(expectation.value)
    );
  }
  // Titles are stored as plain text; feedparser's expected titles may be (escaped) HTML.
  const plain = String(actual).replace(/\s+/g, ' ').trim();
  return [comparable(expectation.value), expectation.value.replace(/\s+/g, ' ').trim()].some((expected) =>
    textMatches(plain, expected, expectation.prefix ?? false),
  );
}

const EXECUTABLE: Array<[string, RegExp]> = [
  ['script', /<script/i],
  ['style', /<style|\sstyle\s*=/i],
  ['event handler', /<[^>]+\son[a-z]+\s*=/i],
  ['javascript: URL', /(?:href|src|poster|action)\s*=\s*["']?\s*(?:javascript|vbscript):/i],
  ['data: URL', /(?:href|src|poster)\s*=\s*["']?\s*data:/i],
  ['frame/object', /<(?:iframe|frame|object|embed|applet)\b/i],
  ['form', /<(?:form|input|button|textarea|select)\b/i],
];

function executableIn(items: PreparedItem[]): string[] {
  const found = new Set<string>();
  for (const item of items) {
    // Titles are plain text (escaped wherever shown): only the stored HTML can carry markup.
    for (const [name, pattern] of EXECUTABLE) if (pattern.test(item.contentHtml)) found.add(name);
  }
  return [...found];
}

// ---- serving and running

interface CorpusFile {
  path: string;
  group: string;
  headers: Record<string, string>;
  expectations: Expectation[];
  /** The feed's URL in the upstream test ("with feedurl ..."), when its expectations depend on it. */
  feedUrl?: string;
}

function groupOf(file: string): string {
  const [source, folder] = file.split('/');
  return source === 'feedparser' ? `feedparser/${folder}` : source!;
}

export function loadCorpus(dir = corpusDir): CorpusFile[] {
  const manifest = new Map(tsv(path.join(dir, 'feedparser/MANIFEST.tsv')).map((row) => [`feedparser/${row[0]}`, row]));
  const rssParserCases = new Map(tsv(path.join(dir, 'rss-parser/CASES.tsv')).map((row) => [`rss-parser/${row[0]}`, row[1]]));
  const feedRsCases = new Map(tsv(path.join(dir, 'feed-rs/CASES.tsv')).map((row) => [`feed-rs/${row[0]}`, row[1]]));
  const nodeFeedparser = new Map(tsv(path.join(dir, 'node-feedparser/EXPECTATIONS.tsv')).map((row) => [row[0]!, row[3] ?? '']));
  return tsv(path.join(dir, 'INDEX.tsv')).map(([file, , format]) => {
    const headers: Record<string, string> = {};
    let expectations: Expectation[] = [];
    const row = manifest.get(file!);
    if (row) {
      const header = row[5]?.match(/^([\w-]+):\s*(.*)$/);
      if (header) headers[header[1]!.toLowerCase()] = header[2]!;
      expectations = feedparserExpectations(row[4] ?? '');
    }
    const rssParserOutput = rssParserCases.get(file!);
    if (rssParserOutput) expectations = rssParserExpectations(path.join(dir, 'rss-parser', rssParserOutput));
    const feedRsOutput = feedRsCases.get(file!);
    if (feedRsOutput) expectations = feedRsExpectations(path.join(dir, 'feed-rs', feedRsOutput));
    let feedUrl: string | undefined;
    if (file!.startsWith('node-feedparser/')) {
      const name = file!.slice('node-feedparser/'.length);
      expectations = nodeFeedparserExpectations(nodeFeedparser, name);
      feedUrl = nodeFeedparser.get(name)?.match(/^with feedurl '([^']+)'/)?.[1];
    }
    headers['content-type'] ??= 'text/xml';
    // Values are compared on feeds only (RSS, Atom, RDF, JSON Feed): the others (CDF, plain XML) are rejected on purpose.
    if (!/^(rss|atom|rdf)/.test(format ?? '') && !file!.endsWith('.json')) expectations = [];
    return { path: file!, group: groupOf(file!), headers, expectations, feedUrl };
  });
}

async function serveCorpus(dir: string, files: CorpusFile[]) {
  const byPath = new Map(files.map((file) => [`/${file.path}`, file]));
  const server = createServer((req, res) => {
    const file = byPath.get(decodeURIComponent(req.url ?? ''));
    if (file === undefined) return void res.writeHead(404).end();
    res.writeHead(200, file.headers).end(readFileSync(path.join(dir, file.path)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function corpusConfig(): Config {
  return loadConfig({ BASE_URL: 'http://localhost:8080', FETCH_TIMEOUT_MS: '10000', FETCH_ALLOW_PRIVATE: '127.0.0.1' });
}

async function runOne(config: Config, origin: string, file: CorpusFile, now: Date): Promise<FileResult> {
  const url = `${origin}/${file.path}`;
  const fetched = await fetchFeed(config, url, { etag: null, lastModified: null });
  // feedparser's expected absolute URLs name the address its own test server had; node-feedparser's
  // the feed URL its test passed in. The document's base is then found as the refresh finds it.
  const servedAs = file.path.startsWith('feedparser/')
    ? `${FEEDPARSER_ORIGIN}/tests/${file.path.slice('feedparser/'.length)}`
    : (file.feedUrl ?? url);
  const documentUrl = documentBase(servedAs, fetched.kind === 'ok' ? fetched.contentLocation : undefined);
  const outcome: IngestOutcome =
    fetched.kind === 'ok'
      ? await ingestFeed(fetched.bytes, fetched.contentType, documentUrl, { maxItems: config.fetchMaxItems, now })
      : { kind: 'rejected', reason: fetched.kind === 'error' ? fetched.reason : 'not modified' };
  const items = outcome.kind === 'ingested' ? outcome.items : [];
  const feedTitle = outcome.kind === 'ingested' ? outcome.info.title : undefined;
  return {
    path: file.path,
    group: file.group,
    ingested: outcome.kind === 'ingested',
    outcome: outcome.kind === 'ingested' ? `ingested with ${items.length} posts` : `rejected: ${outcome.reason}`,
    reason: outcome.kind === 'rejected' ? outcome.reason.replace(/ \(line \d+\)$/, '') : undefined,
    posts: items.length,
    executable: executableIn(items),
    // Posts past the per-feed cap are dropped on purpose: expectations about them do not count.
    // So are expected titles without any text (an image, say): we then show a fallback title.
    checks: file.expectations
      .filter((expectation) => (expectation.index ?? 0) < config.fetchMaxItems)
      .filter((expectation) => !(expectation.metric.endsWith('Title') && comparable(String(expectation.value)) === ''))
      .map((expectation) => {
        const capped =
          expectation.metric === 'postCount'
            ? { ...expectation, value: Math.min(Number(expectation.value), config.fetchMaxItems) }
            : expectation;
        const actual = actualValue(capped, feedTitle, items);
        return { metric: capped.metric, expected: capped.value, actual, ok: matches(capped, actual, documentUrl) };
      }),
  };
}

export async function runCorpus(options: { dir?: string; filter?: (file: string) => boolean } = {}): Promise<FileResult[]> {
  const dir = options.dir ?? corpusDir;
  const files = loadCorpus(dir).filter((file) => options.filter?.(file.path) ?? true);
  const served = await serveCorpus(dir, files);
  const config = corpusConfig();
  // Dates in the corpus are old: "now" far ahead so that none is discarded as future.
  const now = new Date('2030-01-01T00:00:00Z');
  try {
    const results: FileResult[] = [];
    for (const file of files) results.push(await runOne(config, served.origin, file, now));
    return results;
  } finally {
    await served.close();
  }
}

export function summarize(results: FileResult[]): GroupReport[] {
  const groups = new Map<string, GroupReport>();
  for (const result of results) {
    const report = groups.get(result.group) ?? {
      group: result.group,
      files: 0,
      ingested: 0,
      rejected: {},
      matched: Object.fromEntries(METRICS.map((m) => [m, { matched: 0, total: 0 }])) as GroupReport['matched'],
    };
    groups.set(result.group, report);
    report.files++;
    if (result.ingested) report.ingested++;
    else report.rejected[result.reason!] = (report.rejected[result.reason!] ?? 0) + 1;
    for (const check of result.checks) {
      report.matched[check.metric].total++;
      if (check.ok) report.matched[check.metric].matched++;
    }
  }
  return [...groups.values()].sort((a, b) => a.group.localeCompare(b.group));
}

function share({ matched, total }: { matched: number; total: number }): string {
  return total === 0 ? '-' : `${((100 * matched) / total).toFixed(1)}% (${matched}/${total})`;
}

export function formatReport(groups: GroupReport[]): string {
  const header = ['folder', 'files', 'ingested', 'rejected', 'feed title', 'post title', 'post link', 'date', 'post count'];
  const rows = groups.map((g) => [
    g.group,
    String(g.files),
    String(g.ingested),
    String(g.files - g.ingested),
    ...METRICS.map((metric) => share(g.matched[metric])),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const reasons = new Map<string, number>();
  for (const g of groups) for (const [reason, n] of Object.entries(g.rejected)) reasons.set(reason, (reasons.get(reason) ?? 0) + n);
  return [
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'Rejected, by reason:',
    ...[...reasons].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `  ${String(n).padStart(4)}  ${reason}`),
  ].join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(corpusDir)) {
    console.error(`corpus not found at ${corpusDir}`);
    process.exit(1);
  }
  const started = Date.now();
  const results = await runCorpus();
  const groups = summarize(results);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ groups, seconds: (Date.now() - started) / 1000 }, null, 2));
  } else {
    console.log(formatReport(groups));
    console.log(`\n${results.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (process.argv.includes('--misses')) {
      for (const r of results)
        for (const c of r.checks)
          if (!c.ok) console.log(`${r.path}\t${c.metric}\texpected ${JSON.stringify(c.expected)}\tgot ${JSON.stringify(c.actual)}`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
