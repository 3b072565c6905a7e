// The recorded corpus (test/clients/corpus.json) is what the clients send today:
// re-recorded here and compared. GK_RECORD_CLIENTS=1 rewrites it instead.
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupClients } from '../helpers/clients.js';
import { recordCorpus, type Corpus } from './record.js';

const file = new URL('./corpus.json', import.meta.url);
afterAll(() => cleanupClients());

describe('the client corpus', () => {
  it('is what the clients send today', () => {
    const now = recordCorpus();
    if (process.env.GK_RECORD_CLIENTS === '1') writeFileSync(file, `${JSON.stringify(now, null, 1)}\n`);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Corpus;
    expect(now).toEqual(stored);
  });
});
