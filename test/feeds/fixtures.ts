import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/paths.js';
import { ingestFeed, type IngestOutcome } from '../../src/feeds/pipeline.js';

export const fixturesDir = path.join(projectRoot, 'test/fixtures/feeds');

export function fixture(name: string): Buffer {
  return readFileSync(path.join(fixturesDir, name));
}

export const NOW = new Date('2024-06-01T12:00:00Z');

export async function ingestFixture(name: string, contentType?: string, url = 'http://example.com/feed.xml'): Promise<IngestOutcome> {
  return ingestFeed(fixture(name), contentType, url, { maxItems: 500, now: NOW });
}

export async function ingested(name: string, contentType?: string, url?: string) {
  const outcome = await ingestFixture(name, contentType, url);
  if (outcome.kind !== 'ingested') throw new Error(`${name} was rejected: ${outcome.reason}`);
  return outcome;
}
