import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ResponseCache } from '../../src/web/response-cache.js';

const page = (body: string) => async () => ({ body, type: 'text/html', lastModified: new Date(0) });

test('a new content version rebuilds a cached page at once; the same version answers from memory', async () => {
  let version = 'v1';
  const cache = new ResponseCache(3600, async () => version);
  assert.equal((await cache.get('/', page('first')))!.body.toString(), 'first');
  assert.equal((await cache.get('/', page('second')))!.body.toString(), 'first');
  version = 'v2';
  assert.equal((await cache.get('/', page('third')))!.body.toString(), 'third');
});

test('when the content version cannot be read, the page as last built is served, and without one the error stands', async () => {
  let down = false;
  const cache = new ResponseCache(3600, async () => {
    if (down) throw new Error('connection refused');
    return 'v1';
  });
  await cache.get('/', page('kept'));
  down = true;
  assert.equal((await cache.get('/', page('never built')))!.body.toString(), 'kept');
  await assert.rejects(cache.get('/other', page('never built')), /connection refused/);
});
