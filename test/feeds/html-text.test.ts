import assert from 'node:assert/strict';
import { test } from 'node:test';
import { htmlText } from '../../src/feeds/html-text.js';

// What html-to-text gives for each, under the options src/feeds/html-text.ts names: the
// excerpts of stored posts must not change when their text is taken without it.
const cases: Array<[string, string]> = [
  ['<p>One <a href="https://x.example/">link</a> and <b>bold</b>text.</p><p>Two</p>', 'One link and boldtext.\n\nTwo'],
  // Only HTML's whitespace separates words: a no-break space is a letter, a zero-width space is not.
  ['a<b> b </b>c<i>d</i> &amp; e\u00a0f\u200bg\th', 'a b cd & e\u00a0f g h'],
  ['<h2>Title</h2><h5>straße</h5><p>after</p><hr>end', 'Title\n\nSTRASSE\n\nafter\n\n----------------------------------------\n\nend'],
  ['<ul> <li>one</li><li></li>loose text<p>para</p></ul>next', ' one\n \n loose text\n\n para\n\nnext'],
  ['<ol start="3"><li>a<ul><li>b</li></ul></li><li>c</li></ol>q', ' 3. a\n    b\n 4. c\n\nq'],
  // A list with no text is no block at all: the text around it runs on.
  ['a<ul></ul>b<ul><!-- note --></ul>c', 'abc'],
  ['line<br>break<br><br>again<div>block</div>inline<blockquote>quoted</blockquote>', 'line\nbreak\n\nagain\nblock\ninline\n\nquoted'],
  ['<figure><img src="https://x.example/a.png" alt="alt"><figcaption>caption</figcaption></figure>after', 'after'],
  // Tables and pre are left to html-to-text.
  ['<table><tr><th>head</th><td>cell</td></tr></table>', 'HEAD   cell'],
  ['<pre>  keep\n   spacing</pre>', '  keep\n   spacing'],
  ['<p>cut in the middle of a <a href="https://x.exa', 'cut in the middle of a'],
];

for (const [html, text] of cases) {
  test(`text of ${JSON.stringify(html)}`, () => {
    assert.equal(htmlText(html), text);
  });
}
