// Records what every client sends for every option set (pull and push) with a recording -e.
// `GK_RECORD_CLIENTS=1 npx vitest run test/clients/corpus.test.ts` rewrites the corpus file.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clients, recordClientCommand } from '../helpers/clients.js';
import { OPTION_SETS, PULL_PATHS, PUSH_PATHS } from './option-sets.js';

/** client name → "set name (pull|push)" → the server command line, or null when the client refuses the options. */
export type Corpus = Record<string, Record<string, string | null>>;

export function recordCorpus(): Corpus {
  const base = mkdtempSync(join(tmpdir(), 'gk-corpus-'));
  try {
    mkdirSync(join(base, 'SRC'));
    writeFileSync(join(base, 'SRC', 'f'), 'x\n');
    const corpus: Corpus = {};
    for (const c of clients()) {
      const lines: Record<string, string | null> = {};
      for (const set of OPTION_SETS) {
        for (const [dir, paths] of [['pull', PULL_PATHS], ['push', PUSH_PATHS]] as const) {
          const args = [...set.args, ...paths].map((a) => (a.startsWith('SRC') ? join(base, a) : a));
          let line: string | null;
          try {
            line = recordClientCommand(args, base, c.bin);
          } catch {
            line = null;
          }
          lines[`${set.name} (${dir})`] = line;
        }
      }
      corpus[c.name] = lines;
    }
    return corpus;
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
