import assert from 'node:assert/strict';
import { test } from 'node:test';
import { charsetOf } from '../../src/feeds/decode.js';
import { resolveUrl } from '../../src/feeds/sanitize.js';

test('resolveUrl: relative against the base, absolute as is, only the allowed schemes', () => {
  assert.equal(resolveUrl('../img/a.png', 'https://example.org/blog/posts/'), 'https://example.org/blog/img/a.png');
  assert.equal(resolveUrl('  //cdn.example.org/x  ', 'https://example.org/'), 'https://cdn.example.org/x');
  assert.equal(resolveUrl('HTTP://Example.ORG/a b', undefined), 'http://example.org/a%20b');
  assert.equal(resolveUrl('javascript:alert(1)', 'https://example.org/'), undefined);
  assert.equal(resolveUrl('data:text/html,hi', undefined), undefined);
  assert.equal(resolveUrl('mailto:a@example.org', undefined), undefined);
  assert.equal(resolveUrl('mailto:a@example.org', undefined, ['http:', 'https:', 'mailto:']), 'mailto:a@example.org');
  assert.equal(resolveUrl('relative/only', undefined), undefined, 'nothing to resolve against');
  assert.equal(resolveUrl('   ', 'https://example.org/'), undefined);
  assert.equal(resolveUrl(undefined, 'https://example.org/'), undefined);
});

test('charsetOf: the charset parameter, quoted or not, anywhere among the parameters', () => {
  assert.equal(charsetOf('application/rss+xml; charset=ISO-8859-1'), 'ISO-8859-1');
  assert.equal(charsetOf('text/xml;charset="windows-1251"'), '"windows-1251"');
  assert.equal(charsetOf("text/xml; q=1; CHARSET = 'koi8-r'"), "'koi8-r'");
  assert.equal(charsetOf('text/xml'), undefined);
  assert.equal(charsetOf(undefined), undefined);
});
