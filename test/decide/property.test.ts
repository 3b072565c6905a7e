// Properties over generated inputs: nothing crashes the decision, and every
// allowed argv holds only allowlisted options, puts "--" before ".", and
// keeps every path inside the policy root: option paths (also relative ones,
// from the push's destination directory) and every match of a pull's
// wildcard. The inputs are built to escape (links pointing out, "..",
// wildcards matching ".."), and a coverage floor makes sure enough of them
// are allowed for the checks to mean something.
import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readdirSync, realpathSync, statSync, symlinkSync } from 'node:fs';
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
  // A link pointing out below a directory, not at root level: an option path
  // relative to a push's destination directory ("bk" + "away") escapes,
  // although the same name taken from root does not exist.
  symlinkSync(tree.outside(), join(root, 'bk', 'away'));
});

const session = (cmd: string) => ({ originalCommand: cmd, client: { addr: '127.0.0.1', port: 1 }, server: null, user: 'root', userAuthFile: null });
const facts = { fs: realFs, confineRootSupported: true };

/**
 * Server paths that can escape: through links pointing out (outlink, bk/away;
 * twinlink to root2, the sibling whose name extends root's),
 * "..", wildcards whose matches include ".." or the links, and absolute
 * spellings, plain or with the real root ("@ROOT" is replaced by it when the
 * command is run).
 */
const component = fc.constantFrom('data', 'outlink', 'twinlink', 'twin*', 'inlink', 'dst', 'bk', 'away', 'x', 'new', '.', '..', '*', '.*', '?', 'o*', '[o]utlink', 'ou?link', 'a*', 'file.c', 'a b');
const serverPath = fc.tuple(fc.constantFrom('', '/', '@ROOT/', '/@ROOT/'), fc.array(component, { minLength: 1, maxLength: 3 }), fc.constantFrom('', '/')).map(([lead, parts, trail]) => lead + parts.join('/') + trail);

const PATH_OPTIONS = LONG_OPTIONS.filter((o) => o.arg === 'path' || o.arg === 'files-from');
// Mostly the ones a policy can allow, so that the checks below get to run.
const pathOption = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PATH_OPTIONS.filter((o) => o.risk !== 'refused' && o.risk !== 'unusual').map((o) => o.name)) },
  { weight: 1, arbitrary: fc.constantFrom(...PATH_OPTIONS.map((o) => o.name)) },
);
const optionWord = fc.oneof(
  // What real clients send, so that a good share of commands is allowed.
  { weight: 4, arbitrary: fc.constantFrom('-logDtpre.iLsf', '-vlogDtprze.iLsfxCIvu', '-re.iLsfxCIvu', '--numeric-ids', '--delete', '-t', '--inplace') },
  // What openrsync sends (test/clients/corpus.json): separate option words.
  { weight: 3, arbitrary: fc.constantFrom('-g', '-l', '-o', '-p', '-D', '-r', '-t', '-v', '-h', '-x', '-z', '-H', '--progress', '--delete-before', '--dirs', '--relative', '--numeric-ids') },
  // Path-valued options with values that can escape.
  { weight: 6, arbitrary: fc.tuple(pathOption, fc.oneof({ weight: 2, arbitrary: serverPath }, { weight: 1, arbitrary: fc.constantFrom('away', 'away/t', 'outlink', 'twinlink', 'twinlink/list', 'tmp', 'data') })).map(([name, v]) => `${name}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom(...SHORT_OPTIONS.map((o) => (o.arg === 'none' ? o.name : `${o.name}512`))) },
  { weight: 1, arbitrary: fc.constantFrom(...LONG_OPTIONS.map((o) => (o.arg === 'none' ? o.name : `${o.name}=/data`))) },
  { weight: 1, arbitrary: fc.stringMatching(/^-[A-Za-z@]{1,6}(e\.[a-zA-Z]{0,8})?$/) },
  { weight: 1, arbitrary: fc.constantFrom('-vlogDtprxze.iLsfxCIvu', '-e.iLsfx', '-e', '--', '-', '--server', '--sender', '--daemon') },
);
const pathWord = fc.oneof(
  { weight: 3, arbitrary: serverPath },
  // Destination directories with a link pointing out below them (bk/away).
  { weight: 1, arbitrary: fc.constantFrom('bk', 'bk/', '/bk/new', 'dst/') },
  { weight: 1, arbitrary: fc.constantFrom('/', '.', 'data', '/data/', 'data/*.c', '/outlink/secret', 'outlink', '/twinlink/secret', 'twinlink/', '/inlink/', '..', '/a b/', '/x/$y;z', 'dst/new', '/./data', '//data', 'out*/secret', '.*', '/data/../..') },
);
const commandWords = fc.tuple(
  fc.constantFrom(['rsync', '--server'], ['rsync', '--server'], ['rsync', '--server', '--sender'], ['/usr/local/bin/rsync', '--server', '--sender'], ['rsync']),
  fc.array(optionWord, { maxLength: 3 }),
  fc.oneof({ weight: 5, arbitrary: pathWord.map((w) => [w]) }, { weight: 1, arbitrary: fc.array(pathWord, { maxLength: 3 }) }),
).map(([head, opts, paths]) => [...head, ...opts, '.', ...paths]);

const policies: Policy[] = [
  policy({ root: '/' }),
  policy({ root: '/', access: 'read-write', delete: true }),
  policy({ root: '/ROOT', access: 'read-only' }),
  policy({ root: '/ROOT', access: 'write-only', mungeLinks: true }),
  policy({ root: '/ROOT', access: 'read-write', delete: true, overwrite: false }),
  policy({ root: '/ROOT', access: 'read-write', delete: true }),
];
const withRoot = (p: Policy): Policy => (p.root === '/ROOT' ? { ...p, root } : p);

function insideRoot(real: string, r: string): boolean {
  return r === '/' || real === r || real.startsWith(`${r}/`);
}

const isDirectory = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

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

/**
 * What a wildcard path can match, written apart from the gate's own
 * expansion and wider than glob(3): every name of a directory, dot files,
 * "." and ".." included, for "*", "?" and any bracket expression.
 */
function expand(path: string): string[] {
  let current = ['/'];
  for (const part of path.split('/').filter((x) => x !== '')) {
    const next: string[] = [];
    for (const dir of current) {
      if (!/[*?[]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      const re = new RegExp(`^${part.replace(/\[[^\]]*\]|[*?]|[^*?[]/g, (t) => (t === '*' ? '.*' : t === '?' || t.startsWith('[') ? '.' : t.replace(/[\\^$.|+(){}]/g, '\\$&')))}$`, 's');
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      // join() would fold "x/.." away before it is resolved: keep it spelled out.
      for (const name of [...names, '.', '..']) if (re.test(name)) next.push(`${dir === '/' ? '' : dir}/${name}`);
    }
    current = next;
  }
  return current;
}

describe('properties', () => {
  it('openrsync\'s separate option words are decided as rsync\'s cluster of the same letters (absolute paths, path policies)', () => {
    const letters = fc.uniqueArray(fc.constantFrom(...'glopDrtvxzHhnRSWcumdO'), { minLength: 2, maxLength: 8 });
    fc.assert(
      fc.property(letters, fc.boolean(), fc.constantFrom('/', '/data/', '/a b/', '/outlink/secret', '/dst/new', '/data/*.c'), fc.constantFrom(...policies), (ls, sender, path, p) => {
        const head = sender ? 'rsync --server --sender' : 'rsync --server';
        const quoted = `'${path}'`;
        const separate = evaluate(session(`${head} ${ls.map((l) => `-${l}`).join(' ')} . ${quoted}`), withRoot(p), facts);
        const cluster = evaluate(session(`${head} -${ls.join('')} . ${quoted}`), withRoot(p), facts);
        expect(separate.family).toBe('openrsync');
        expect(cluster.family).toBe('rsync');
        expect(separate.verdict, `${ls.join('')} ${path}`).toBe(cluster.verdict);
        if (separate.verdict === 'deny' && cluster.verdict === 'deny') expect(separate.code).toBe(cluster.code);
      }),
      { numRuns: 1000 },
    );
  });

  it('no input crashes the decision', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom(...policies), (s, p) => {
        const d = evaluate(session(s), withRoot(p), facts);
        expect(['allow', 'deny']).toContain(d.verdict);
      }),
      { numRuns: 2000 },
    );
  });

  it('every allowed argv: allowlisted options only, "--" before ".", option paths and wildcard matches inside root; enough allowed to mean it', () => {
    const seen = { runs: 0, subRoot: 0, allowed: 0, pathOption: 0, destRelative: 0, wildcard: 0, escapeRefused: 0 };
    fc.assert(
      fc.property(commandWords, fc.constantFrom(...policies), (words0, p0) => {
        const p = withRoot(p0);
        const words = words0.map((w) => w.replaceAll('@ROOT', root.slice(1)));
        const d = evaluate(session(quoteWords(words)), p, facts);
        seen.runs++;
        if (p.root !== '/') seen.subRoot++;
        if (d.verdict === 'deny' && d.code === 'path-outside-root' && p.root !== '/') seen.escapeRefused++;
        if (d.verdict !== 'allow' || d.argv.length === 0) return;
        const argv = d.argv;
        expect(argv[0]).toBe(p.rsync);
        const sep = argv.indexOf('--');
        expect(sep).toBeGreaterThan(1);
        expect(argv[sep + 1]).toBe('.');
        const sender = argv[2] === '--sender';
        const paths = argv.slice(sep + 2);
        const realRoot = resolve(p.root);
        const mustBeInside = (path: string, what: string) => expect(insideRoot(resolve(path), realRoot), `${what}: ${path} (${quoteWords(words)})`).toBe(true);
        if (p.root !== '/') seen.allowed++;
        for (const w of argv.slice(sender ? 3 : 2, sep)) {
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
          if (!spec || (spec.arg !== 'path' && spec.arg !== 'files-from') || ['--confine-root', '--log-file'].includes(spec.name)) continue;
          const value = w.slice(w.indexOf('=') + 1);
          if (value === '-') continue;
          if (p.root !== '/') seen.pathOption++;
          expect(value.split('/'), w).not.toContain('..');
          if (value.startsWith('/')) {
            mustBeInside(value, w);
            continue;
          }
          // Relative: from where rsync starts, and for a receiver also from
          // its destination directory (the destination, or its parent when it
          // names a new file), where rsync takes basis, temp and backup dirs.
          mustBeInside(join(d.cwd, value), w);
          if (!sender && paths.length === 1) {
            if (p.root !== '/') seen.destRelative++;
            const dest = join(d.cwd, paths[0]!);
            const destDir = isDirectory(dest) ? dest : join(dest, '..');
            mustBeInside(join(destDir, value), `${w} from the destination directory`);
          }
        }
        for (const path of paths) {
          expect(path.split('/')).not.toContain('..');
          const full = path.startsWith('/') ? path : `${d.cwd}/${path}`;
          if (sender && /[*?[]/.test(path)) {
            if (p.root !== '/') seen.wildcard++;
            for (const m of expand(full)) mustBeInside(m, `wildcard ${path} matches`);
          }
          mustBeInside(full.replace(/[*?[].*$/, ''), path);
        }
      }),
      { numRuns: 3000 },
    );
    // A coverage floor: a property over inputs that are nearly all refused
    // proves little. Shares of the runs under a policy root that is not "/".
    const share = (n: number) => n / seen.subRoot;
    console.info(`property coverage: ${JSON.stringify(seen)}`);
    expect(share(seen.allowed), 'allowed').toBeGreaterThan(0.15);
    expect(share(seen.pathOption), 'allowed with a path-valued option').toBeGreaterThan(0.05);
    expect(share(seen.destRelative), 'allowed pushes with a relative path option').toBeGreaterThan(0.01);
    expect(share(seen.wildcard), 'allowed pulls with a wildcard').toBeGreaterThan(0.015);
    expect(share(seen.escapeRefused), 'refused as outside root').toBeGreaterThan(0.1);
  }, 180_000);
});
