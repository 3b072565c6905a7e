// Properties over generated inputs: nothing crashes the decision, and every
// allowed argv holds only allowlisted options, puts "--" before ".", and
// keeps every path inside the policy root.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/evaluate.js';
import { realFs } from '../../src/facts.js';
import { LONG_OPTIONS, SHORT_OPTIONS, longOption, shortOption } from '../../src/rsync/options.js';
import type { Policy } from '../../src/policy/schema.js';
import { quoteWords } from '../../src/shell/tokenize.js';
import { policy, useTree } from '../helpers/policy.js';

const tree = useTree();
let root: string;
beforeAll(() => {
  root = tree.root();
});

const session = (cmd: string) => ({ originalCommand: cmd, client: { addr: '127.0.0.1', port: 1 }, server: null, user: 'root', userAuthFile: null });
const facts = { fs: realFs, confineRootSupported: true };

const optionWord = fc.oneof(
  fc.constantFrom(...SHORT_OPTIONS.map((o) => (o.arg === 'none' ? o.name : `${o.name}512`))),
  fc.constantFrom(...LONG_OPTIONS.map((o) => (o.arg === 'none' ? o.name : `${o.name}=/data`))),
  fc.stringMatching(/^-[A-Za-z@]{1,6}(e\.[a-zA-Z]{0,8})?$/),
  fc.constantFrom('-vlogDtprxze.iLsfxCIvu', '-e.iLsfx', '-e', '--', '-', '--server', '--sender', '--daemon'),
);
const pathWord = fc.oneof(
  fc.constantFrom('/', '.', 'data', '/data/', 'data/*.c', '/outlink/secret', 'outlink', '/inlink/', '..', '/a b/', '/x/$y;z', 'dst/new', '/./data', '//data', 'out*/secret', '.*', '/data/../..'),
  fc.array(fc.constantFrom('data', '..', '.', 'outlink', 'inlink', '*', '?', 'x', 'a b', 'file.c'), { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
);
const commandWords = fc.tuple(
  fc.constantFrom(['rsync', '--server'], ['rsync', '--server', '--sender'], ['/usr/local/bin/rsync', '--server', '--sender'], ['rsync']),
  fc.array(optionWord, { maxLength: 5 }),
  fc.array(pathWord, { maxLength: 3 }),
).map(([head, opts, paths]) => [...head, ...opts, '.', ...paths]);

const policies: Policy[] = [
  policy({ root: '/' }),
  policy({ root: '/', access: 'read-write', delete: true }),
  policy({ root: '/ROOT', access: 'read-only' }),
  policy({ root: '/ROOT', access: 'write-only', mungeLinks: true }),
  policy({ root: '/ROOT', access: 'read-write', delete: true, overwrite: false }),
];
const withRoot = (p: Policy): Policy => (p.root === '/ROOT' ? { ...p, root } : p);

function insideRoot(real: string, r: string): boolean {
  return r === '/' || real === r || real.startsWith(`${r}/`);
}

/** The nearest existing ancestor's real path. */
function resolve(path: string): string {
  let p = path;
  for (;;) {
    try {
      return realpathSync(p);
    } catch {
      const up = p.slice(0, p.lastIndexOf('/')) || '/';
      if (up === p) return '/';
      p = up;
    }
  }
}

describe('properties', () => {
  it('no input crashes the decision', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom(...policies), (s, p) => {
        const d = evaluate(session(s), withRoot(p), facts);
        expect(['allow', 'deny']).toContain(d.verdict);
      }),
      { numRuns: 2000 },
    );
  });

  it('every allowed argv: allowlisted options only, "--" before ".", paths inside root', () => {
    fc.assert(
      fc.property(commandWords, fc.constantFrom(...policies), (words, p0) => {
        const p = withRoot(p0);
        const d = evaluate(session(quoteWords(words)), p, facts);
        if (d.verdict !== 'allow' || d.argv.length === 0) return;
        const argv = d.argv;
        expect(argv[0]).toBe(p.rsync);
        const sep = argv.indexOf('--');
        expect(sep).toBeGreaterThan(1);
        expect(argv[sep + 1]).toBe('.');
        for (const w of argv.slice(argv[2] === '--sender' ? 3 : 2, sep)) {
          if (w.startsWith('--')) {
            const name = w.slice(2).split('=')[0]!;
            const spec = longOption(name);
            const forced = ['munge-links', 'ignore-existing', 'confine-root', 'drop-D', 'log-file'].includes(name) || ['--chmod=ugo-s', '--filter=-x security.capability'].includes(w);
            expect(forced || (spec !== undefined && spec.risk !== 'refused'), w).toBe(true);
          } else {
            const letters = w.slice(1).replace(/e[\d.]*[A-Za-z]*$/, '');
            for (const l of /^[B@]/.test(letters) ? letters[0]! : letters) {
              const spec = shortOption(l);
              expect(spec !== undefined && spec.risk !== 'refused', `${w}: -${l}`).toBe(true);
            }
          }
          const spec = w.startsWith('--') ? longOption(w.slice(2).split('=')[0]!) : undefined;
          if (spec && (spec.arg === 'path' || spec.arg === 'files-from') && w.includes('=/') && !w.startsWith('--confine-root') && !w.startsWith('--log-file')) {
            expect(insideRoot(resolve(w.slice(w.indexOf('=') + 1)), resolve(p.root)), w).toBe(true);
          }
        }
        for (const path of argv.slice(sep + 2)) {
          expect(path.split('/')).not.toContain('..');
          if (!/[*?[]/.test(path)) expect(insideRoot(resolve(join(d.cwd, path)), resolve(p.root)), path).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
