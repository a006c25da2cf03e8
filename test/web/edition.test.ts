import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sendDueDigests } from '../../src/jobs/send.js';
import { HTML_BUDGET_BYTES, sentHtmlBytes } from '../../src/render/digest.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';
import { startWeb, type WebHarness } from './harness.js';

let harness: WebHarness;
before(async () => {
  harness = await startWeb();
});
after(() => harness.close());

test('a digest with more posts than an email shows counts the rest and links to them on the web edition, at the category', async () => {
  const { db } = harness.database;
  const category = await seedCategory(db, 'thinktime', 'Thinktime');
  const feed = await seedFeed(db, category, 'Planet Linux Australia');
  const other = await seedFeed(db, category, 'Seth Godin');
  assert.ok('id' in (await addSubscriber(db, { email: 'big@example.org', categoryNames: ['thinktime'] })));
  const excerpt =
    'As we get closer to releasing the RC1 of Nova for Juno, I have started collecting a list of all the blueprints we implemented. '
      .repeat(3)
      .slice(0, 300);
  for (let i = 1; i <= 150; i += 1) await seedItem(db, feed, { title: `Planet post ${i}`, excerpt });
  await seedItem(db, other, { title: 'The sophistication of truth' });

  const summary = await sendDueDigests(db, harness.config, harness.mailer);
  assert.equal(summary.delivered.sent, 1);
  const [mail] = await harness.sink.waitFor(1);
  const html = mail!.parsed.html || '';
  assert.ok(sentHtmlBytes(html) <= HTML_BUDGET_BYTES, `HTML is ${sentHtmlBytes(html)} bytes as sent`);
  const more = /<a href="([^"]+\/editions\/[A-Za-z0-9_-]{43})#c-thinktime"[^>]*>Also new: (\d+) from Planet Linux Australia<\/a>/.exec(
    html,
  );
  assert.ok(more, 'the email says how many posts it left out and links to them');
  const shown = (html.match(/>Planet post \d+<\/a><\/h3>/g) ?? []).length;
  assert.equal(shown, 3, 'one source shows at most its cap');
  assert.equal(shown + Number(more[2]), 150, 'every post is either shown or counted');
  assert.ok((mail!.parsed.text ?? '').includes(`${more[1]}#c-thinktime`), 'the text part has the same link');

  const page = await fetch(more[1]!);
  assert.equal(page.status, 200);
  const body = await page.text();
  for (let i = 1; i <= 150; i += 1) assert.ok(body.includes(`>Planet post ${i}</a>`), `post ${i} is on the web page`);
  assert.match(body, /<section id="c-thinktime"/, 'the category has its anchor');
  assert.match(body, /<a href="#c-thinktime">Thinktime<\/a>/, 'the contents list links to it');
  assert.match(body, /<p class="hint">\w+day,? \d+ \w+ \d{4}<\/p>/, 'the page is dated');

  const forged = await fetch(more[1]!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  assert.equal(forged.status, 404);
});
