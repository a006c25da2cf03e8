/**
 * One benchmark run on one database backend, in a process of its own so that its peak
 * RSS is the pipeline's alone (the feed server and SMTP sink run in another child, see
 * servers.ts). Runs the real stages in order, then the reference: the same messages,
 * pre-built, sent by nodemailer alone. Prints one JSON line: a RunResult.
 *
 *   node dist/scripts/bench/run.js --backend pglite|postgres --feeds N --subscribers N --combos N
 * (or scripts/bench/run.ts with --import tsx, which costs about 30 MB more RSS).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import type { Db } from '../../src/db/connect.js';
import { planDeliveries } from '../../src/digest/plan.js';
import { addCategory, addFeed } from '../../src/feeds/store.js';
import { isProblem } from '../../src/problem.js';
import { refreshFeeds } from '../../src/feeds/refresh.js';
import { loadOrRender, renderPendingEditions } from '../../src/jobs/send.js';
import { deliverQueue } from '../../src/mail/deliver.js';
import { refusalRules } from '../../src/bounces/refusal.js';
import { createDkimSigner } from '../../src/own/dkim.js';
import { createSmtpMailer, signingMailer } from '../../src/mail/transport.js';
import { mjmlCompileCount } from '../../src/render/mjml.js';
import { currentCursor } from '../../src/digest/cursor.js';
import { createEmbeddedDatabase, createServerDatabase, type TestDatabase } from '../../test/helpers/db.js';
import { sendPrebuilt, type Half, type Sender } from './reference.js';
import type { ReferenceResult } from './reference-sender.js';
import { runRss2email, type Rss2emailResult } from './rss2email.js';
import { cpuSecondsSince, RssSampler } from './rss.js';
import type { ServersReady, SinkCount } from './servers.js';
import { dkimEnvironment, signerCost, type SignerCost } from './dkim.js';
import { benchOptions, type BenchOptions } from './options.js';
import { siblingScript } from './sibling.js';

export interface StageResult {
  stage: string;
  seconds: number;
  /** Units of work done (feeds, items, messages...), named by `unit`. */
  count: number;
  unit: string;
  /** CPU time of this process (user + system): the rest of the wall time went to the database, the sink or waiting. */
  cpuSeconds: number;
  peakRssMb: number;
}

export interface RunResult {
  backend: 'pglite' | 'postgres';
  options: BenchOptions;
  smtpPoolSize: number;
  stages: StageResult[];
  feedsPerSecondFirstFetch: number;
  feedsPerSecondAll304: number;
  itemsStored: number;
  itemsPerSecond: number;
  editions: number;
  mjmlCompiles: number;
  msPerCompile: number;
  averageHtmlKb: number;
  messagesSent: number;
  messagesReceivedBySink: number;
  messagesPerSecond: number;
  prebuiltMessagesPerSecond: number;
  ratioToPrebuilt: number;
  /** The machine's limit: the same pre-built bytes over raw pipelined sockets. */
  rawMessagesPerSecond: number;
  ratioToRaw: number;
  /** rss2email fetching the first (up to 200) of the same feeds, before our first fetch. */
  rss2email: Rss2emailResult | undefined;
  /** Our first fetch's feeds/s over rss2email's. */
  firstFetchVsRss2email: number | undefined;
  /** The five stages, from the first fetch to the last message in the sink. */
  pipelineSeconds: number;
  /** Sampled from the first fetch to the last message (the reference's own use excluded). */
  peakRssMb: number;
  /** The kernel's high-water mark for the whole process, setup included. */
  processMaxRssMb: number;
  /** With --dkim: the signer's own CPU per message, measured apart from the send. */
  dkimSigner: SignerCost | undefined;
}

const SECRET = 'bench-secret-'.padEnd(48, 'x');
const TIME_ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Melbourne', 'Asia/Tokyo', 'America/Los_Angeles', 'Asia/Kolkata'];

function startServers(generatedAt: Date, postsPerFeed: number): Promise<{ child: ChildProcess; ready: ServersReady }> {
  const script = siblingScript('./servers', import.meta.url);
  const child = fork(script, [String(generatedAt.getTime()), String(postsPerFeed)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the bench servers exited with ${code}`)));
    child.once('message', (ready: ServersReady) => resolve({ child, ready }));
  });
}

async function sinkCount(servers: ChildProcess): Promise<SinkCount> {
  const answer = once(servers, 'message') as Promise<[SinkCount]>;
  servers.send({ type: 'count' });
  return (await answer)[0];
}

async function openBenchDatabase(backend: RunResult['backend'], databaseUrl: string | undefined): Promise<TestDatabase> {
  if (backend === 'pglite') return createEmbeddedDatabase();
  if (databaseUrl === undefined)
    throw new Error('--backend postgres needs DATABASE_URL (the bench creates and drops its own database there)');
  return createServerDatabase(databaseUrl);
}

/** All non-empty sets of categories, smallest first, so N combinations need few categories. */
export function categoryCombos(count: number): { categories: string[]; combos: string[][] } {
  let size = 1;
  while (2 ** size - 1 < count) size++;
  const categories = Array.from({ length: size }, (_, i) => `topic${i + 1}`);
  const combos: string[][] = [];
  for (let mask = 1; mask < 2 ** size; mask++) {
    combos.push(categories.filter((_, i) => mask & (1 << i)));
  }
  combos.sort((a, b) => a.length - b.length);
  return { categories, combos: combos.slice(0, count) };
}

/**
 * Setup, not measured: categories, feeds, and subscribers inserted in bulk (100,000
 * calls of addSubscriber would take minutes and say nothing about sending). Every
 * subscriber's cursor predates the first fetch, so every post is new to them.
 */
async function seed(db: Db, options: BenchOptions, feedBase: string): Promise<void> {
  const { categories, combos } = categoryCombos(options.combos);
  for (const name of categories) await addCategory(db, { name, title: name.replace('topic', 'Topic ') });
  for (let id = 1; id <= options.feeds; id++) {
    const added = await addFeed(db, { url: `${feedBase}${id}.xml`, categoryName: categories[id % categories.length]! });
    if (isProblem(added)) throw new Error(added.problem);
  }
  await sql`
    INSERT INTO subscribers (email, email_normalized, status, timezone, delivery_hour, confirmed_at, items_cursor)
    SELECT 'reader' || g || '@bench.example', 'reader' || g || '@bench.example', 'active',
           (${TIME_ZONES}::text[])[1 + g % ${TIME_ZONES.length}], g % 24, now(), ${currentCursor}
    FROM generate_series(1, ${options.subscribers}::int) g`.execute(db);
  for (const [index, combo] of combos.entries()) {
    await sql`
      INSERT INTO subscriber_categories (subscriber_id, category_id)
      SELECT s.id, c.id FROM subscribers s JOIN categories c ON c.name = ANY(${combo}::text[])
      WHERE s.id % ${combos.length} = ${index}`.execute(db);
  }
}

function bothHalves(first: ReferenceResult, second: ReferenceResult): ReferenceResult {
  return { sent: first.sent + second.sent, seconds: first.seconds + second.seconds, cpuSeconds: first.cpuSeconds + second.cpuSeconds };
}

async function firstEditionId(db: Db): Promise<number> {
  return (await db.selectFrom('editions').select('id').orderBy('id').limit(1).executeTakeFirstOrThrow()).id;
}

async function run(): Promise<RunResult> {
  const options = benchOptions(process.argv.slice(2));
  const backend = options.backend === 'postgres' ? 'postgres' : 'pglite';
  const now = new Date();
  const { child: servers, ready } = await startServers(now, options.postsPerFeed);
  // The feeds all live on one local host; real ones come from many, so the per-host limit is lifted.
  const base = loadConfig({ ...process.env, SECRET, BASE_URL: 'https://digest.bench.example', FETCH_ALLOW_PRIVATE: '127.0.0.1' });
  const config = {
    ...loadConfig({
      ...process.env,
      SECRET,
      BASE_URL: 'https://digest.bench.example',
      SMTP_URL: ready.smtpUrl,
      FETCH_ALLOW_PRIVATE: '127.0.0.1',
      FETCH_PER_HOST: String(base.fetchConcurrency),
      ...(options.dkim ? dkimEnvironment() : {}),
    }),
    secret: SECRET,
  };
  const database = await openBenchDatabase(backend, config.databaseUrl);
  const { db } = database;
  const smtp = createSmtpMailer(ready.smtpUrl, config.smtpPoolSize);
  const mailer = config.dkim === undefined ? smtp : signingMailer(smtp, createDkimSigner(config.dkim));
  const rss = new RssSampler();
  const stages: StageResult[] = [];
  const stage = async <T>(name: string, unit: string, work: () => Promise<T>, count: (result: T) => number): Promise<T> => {
    rss.resetStage();
    const started = performance.now();
    const cpu = process.cpuUsage();
    const result = await work();
    stages.push({
      stage: name,
      seconds: (performance.now() - started) / 1000,
      count: count(result),
      unit,
      cpuSeconds: cpuSecondsSince(cpu),
      peakRssMb: rss.stagePeakMb(),
    });
    return result;
  };
  try {
    await seed(db, options, ready.feedBase);
    const rss2email = await runRss2email(ready.feedBase, options.feeds);
    rss.start();
    const first = await stage(
      'fetch (first)',
      'feeds',
      () => refreshFeeds(db, config, { now }),
      (s) => s.feeds,
    );
    if (first.failed > 0) throw new Error(`first fetch: ${first.failed} feeds failed, e.g. ${first.errors[0]?.error}`);
    const refresh = await stage(
      'fetch (all 304)',
      'feeds',
      () => refreshFeeds(db, config, { now }),
      (s) => s.notModified,
    );
    const planned = await stage(
      'plan',
      'deliveries',
      () => planDeliveries(db, now),
      (s) => s.pending,
    );
    const compilesBefore = mjmlCompileCount();
    await stage(
      'render',
      'editions',
      () => renderPendingEditions(db, config, now),
      (n) => n,
    );
    const compiles = mjmlCompileCount() - compilesBefore;
    const dkimSigner =
      config.dkim === undefined ? undefined : await signerCost(config, await loadOrRender(db, config, await firstEditionId(db)));
    // The reference runs half before and half after our send, so that load from other
    // work on the machine, which drifts, weighs on both alike.
    const sendReference = (half: Half, sender: Sender) => sendPrebuilt(db, config, ready.smtpUrl, config.smtpPoolSize, half, sender);
    const before = await sendReference('first', 'nodemailer');
    const rawBefore = await sendReference('first', 'raw');
    const inSinkBefore = (await sinkCount(servers)).messages;
    const delivered = await stage(
      'deliver',
      'messages',
      () =>
        deliverQueue(db, config, mailer, {
          loadEdition: (editionId) => loadOrRender(db, config, editionId),
          recipientRefused: refusalRules(config),
          databaseMode: database.mode,
        }),
      (s) => s.sent,
    );
    const pipelineSeconds = stages.reduce((total, s) => total + s.seconds, 0);
    const pipelinePeakRssMb = rss.peakMb();
    const inSink = (await sinkCount(servers)).messages - inSinkBefore;
    const rawAfter = await sendReference('second', 'raw');
    const after = await sendReference('second', 'nodemailer');
    const reference = bothHalves(before, after);
    const raw = bothHalves(rawBefore, rawAfter);
    // Their CPU and memory are their own process's; the RSS column shows ours meanwhile.
    stages.push({
      stage: 'reference: pre-built, nodemailer only',
      ...reference,
      count: reference.sent,
      unit: 'messages',
      peakRssMb: rss.stagePeakMb(),
    });
    stages.push({
      stage: 'limit: pre-built, raw pipelined sockets',
      ...raw,
      count: raw.sent,
      unit: 'messages',
      peakRssMb: rss.stagePeakMb(),
    });

    const [fetchFirst, fetch304, , renderStage, deliverStage] = stages as [StageResult, StageResult, StageResult, StageResult, StageResult];
    const messagesPerSecond = delivered.sent / deliverStage.seconds;
    const sizes = await sql<{
      kb: number;
    }>`SELECT coalesce(avg(octet_length(html)), 0) / 1024.0 AS kb FROM editions WHERE html IS NOT NULL`.execute(db);
    return {
      backend,
      options,
      smtpPoolSize: config.smtpPoolSize,
      stages,
      feedsPerSecondFirstFetch: fetchFirst.count / fetchFirst.seconds,
      feedsPerSecondAll304: refresh.notModified / fetch304.seconds,
      itemsStored: first.newItems,
      itemsPerSecond: first.newItems / fetchFirst.seconds,
      editions: planned.editions,
      mjmlCompiles: compiles,
      msPerCompile: compiles === 0 ? 0 : (renderStage.seconds * 1000) / compiles,
      averageHtmlKb: Number(sizes.rows[0]?.kb ?? 0),
      messagesSent: delivered.sent,
      messagesReceivedBySink: inSink,
      messagesPerSecond,
      prebuiltMessagesPerSecond: reference.sent / reference.seconds,
      ratioToPrebuilt: messagesPerSecond / (reference.sent / reference.seconds),
      rawMessagesPerSecond: raw.sent / raw.seconds,
      ratioToRaw: messagesPerSecond / (raw.sent / raw.seconds),
      rss2email,
      firstFetchVsRss2email: rss2email === undefined ? undefined : fetchFirst.count / fetchFirst.seconds / rss2email.feedsPerSecond,
      pipelineSeconds,
      peakRssMb: pipelinePeakRssMb,
      processMaxRssMb: process.resourceUsage().maxRSS / 1024,
      dkimSigner,
    };
  } finally {
    rss.stop();
    await mailer.close();
    await database.close();
    servers.disconnect();
  }
}

const result = await run();
process.stdout.write(`${JSON.stringify(result)}\n`);
