import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sendDueDigests } from '../../src/jobs/send.js';
import { HTML_BUDGET_BYTES } from '../../src/render/digest.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';
import { startWeb, type WebHarness } from './harness.js';

let harness: WebHarness;
before(async () => {
  harness = await startWeb();
});
after(() => harness.close());

test('a digest too big for one email stays under the HTML budget and links to the whole edition on the web', async () => {
  const { db } = harness.database;
  const category = await seedCategory(db, 'thinktime', 'Thinktime');
  const feed = await seedFeed(db, category, 'Planet Linux Australia');
  assert.ok('id' in (await addSubscriber(db, { email: 'big@example.org', categoryNames: ['thinktime'] })));
  const excerpt = 'As we get closer to releasing the RC1 of Nova for Juno, I have started collecting a list of all the blueprints we implemented. '.repeat(3).slice(0, 300);
  for (let i = 1; i <= 150; i += 1) await seedItem(db, feed, { title: `Planet post ${i}`, excerpt });

  const summary = await sendDueDigests(db, harness.config, harness.mailer);
  assert.equal(summary.delivered.sent, 1);
  const [mail] = await harness.sink.waitFor(1);
  const html = mail!.parsed.html || '';
  assert.ok(Buffer.byteLength(html) <= HTML_BUDGET_BYTES, `HTML is ${Buffer.byteLength(html)} bytes`);
  const more = /<a href="([^"]+\/editions\/[A-Za-z0-9_-]{43})">(\d+) more posts in Thinktime<\/a>/.exec(html);
  assert.ok(more, 'the email says how many posts it left out and links to them');
  const shown = (html.match(/Planet post \d+<\/a><\/div>/g) ?? []).length;
  assert.equal(shown + Number(more[2]), 150, 'every post is either shown or counted');
  assert.ok((mail!.parsed.text ?? '').includes(more[1]!), 'the text part has the same link');

  const page = await fetch(more[1]!);
  assert.equal(page.status, 200);
  const body = await page.text();
  for (let i = 1; i <= 150; i += 1) assert.ok(body.includes(`>Planet post ${i}</a>`), `post ${i} is on the web page`);

  const forged = await fetch(more[1]!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  assert.equal(forged.status, 404);
});
