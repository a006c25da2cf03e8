/**
 * Generated planet-style RSS feeds for the benchmark: `postsPerFeed` posts (20 by default,
 * about 85 KB a feed; 50 give about 205 KB) of 2 to 5 KB of HTML,
 * titled "Author: Title", all published in the last 20 hours so that a feed's first
 * fetch keeps them mailable (older posts of a first fetch are never mailed). The same
 * id always gives the same feed, so its ETag never changes and a refresh answers 304.
 */
const WORDS = (
  'kernel release patch community conference review memory scheduler network driver ' +
  'filesystem compiler garden coffee bicycle weekend library volunteer meeting sprint ' +
  'tutorial benchmark latency storage cluster upstream mentor python rust database'
).split(' ');
const AUTHORS = [
  'Michael Still',
  'Russell Coker',
  'Francois Marier',
  'Lev Lafayette',
  'Ben Martin',
  'Craige McWhirter',
  'Jonathan Adamczewski',
  'Donna Benjamin',
];

/** A small deterministic generator (mulberry32): the same feed every time, no state kept. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function words(next: () => number, count: number): string {
  return Array.from({ length: count }, () => WORDS[Math.floor(next() * WORDS.length)]!).join(' ');
}

function paragraphs(next: () => number, feedId: number): string {
  const target = 2048 + Math.floor(next() * 3072);
  let html = '';
  while (html.length < target) {
    html += `<p>${words(next, 30)} <a href="https://blog${feedId}.example/${words(next, 1)}">${words(next, 3)}</a> ${words(next, 25)}.</p>\n`;
  }
  return html;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function feedEtag(feedId: number): string {
  return `"bench-${feedId}"`;
}

export function feedXml(feedId: number, generatedAt: Date, postsPerFeed: number): string {
  const next = random(feedId * 7919);
  const items: string[] = [];
  for (let index = 0; index < postsPerFeed; index++) {
    const author = AUTHORS[(feedId + index) % AUTHORS.length]!;
    const title = `${author}: ${words(next, 5)}`;
    const published = new Date(generatedAt.getTime() - (index * 24 + (feedId % 20)) * 60_000);
    const link = `https://blog${feedId}.example/posts/${index}`;
    items.push(
      `<item><title>${escapeXml(title)}</title><link>${link}</link><guid>${link}</guid>` +
        `<pubDate>${published.toUTCString()}</pubDate><description>${escapeXml(paragraphs(next, feedId))}</description></item>`,
    );
  }
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Blog ${feedId}</title><link>https://blog${feedId}.example/</link>
<description>A generated planet member</description>
${items.join('\n')}
</channel></rss>
`;
}
