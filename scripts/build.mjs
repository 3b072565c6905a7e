// Production build. Two parts:
// - the CLI: an ES module entry (gatekeeper.mjs) plus lazily loaded chunks,
//   one set per command;
// - the gate, built apart as CommonJS: gate.cjs, its main chunk, and a chunk
//   with the policy parser and schema that only a new or edited policy loads.
// The gate never loads commander, audit, install or doctor.
//
// Usage: node scripts/build.mjs [--outdir DIR]   (default: dist/)
// The bench builds into its own directory so a concurrent `npm run build`
// cannot swap files under a running measurement.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { builtinModules } from 'node:module';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--outdir');
const out = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(root, 'dist');

/**
 * Identifies the code that validates policies, for the gate's cache of
 * validated policies (src/gate/policy.ts): a hash of every source file and
 * of the lock file. Another build never takes a policy as validated by this one.
 */
function buildId() {
  const hash = createHash('sha256');
  const add = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) add(p);
      else if (e.isFile()) hash.update(`${p.slice(root.length)}\0`).update(readFileSync(p)).update('\0');
    }
  };
  add(join(root, 'src'));
  hash.update(readFileSync(join(root, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Node built-ins without their ESM namespaces. `import { readFileSync } from
 * 'node:fs'` makes Node build the module's namespace, which reads every
 * export, lazy getters included: fs alone then loads fs/promises, streams,
 * readline and more (~36 internal modules) that the gate never uses. Each
 * built-in the sources import becomes a small module that takes the plain
 * object from process.getBuiltinModule (Node >= 20.16) and re-exports its
 * plain properties. Lazy getters (fs.promises,
 * fs.ReadStream, net.BlockList ...) are left out: they load their machinery
 * when read; code that needs one reads it from the default export
 * (`import net from 'node:net'; net.BlockList`), only when it runs.
 */
const builtinNames = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const builtins = {
  name: 'builtins-without-namespaces',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (a) => {
      if (!builtinNames.has(a.path) || a.kind === 'require-call') return undefined;
      return { path: a.path.replace(/^node:/, ''), namespace: 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, async (a) => {
      const real = await import(`node:${a.path}`);
      const obj = real.default ?? real;
      const names = Object.keys(obj).filter((k) => {
        const d = Object.getOwnPropertyDescriptor(obj, k);
        return k !== 'default' && /^[A-Za-z_$][\w$]*$/.test(k) && d !== undefined && !d.get && !d.set;
      });
      const id = JSON.stringify(`node:${a.path}`);
      return {
        contents: [
          `const m = process.getBuiltinModule(${id});`,
          'export default m;',
          ...names.map((k) => `export const ${k} = m.${k};`),
        ].join('\n'),
        loader: 'js',
      };
    });
  },
};

/**
 * pino writes the gate's record, on a synchronous destination of our own
 * (src/log/writer.ts: one write() per record). Its other destinations are
 * never used, yet pino loads them when it loads: transports (thread-stream,
 * a worker thread, real-require) and SonicBoom, about as much start-up as
 * the rest of pino; its redaction library too, for an option the gate does
 * not use. In the gate's bundle they are replaced by stubs that
 * throw if anything ever calls them: should pino ever be built without our
 * destination, it fails closed instead of writing to stdout (the rsync
 * protocol channel) through SonicBoom. pino's "am I the main thread?" is
 * answered true: the gate never runs pino in a worker thread.
 */
const PINO_STUBS = {
  transport: "module.exports = function transport () { throw new Error('pino transports are not part of the gatekeeper gate build (scripts/build.mjs)') }",
  'sonic-boom': "module.exports = class SonicBoom { constructor () { throw new Error('pino.destination is not part of the gatekeeper gate build (scripts/build.mjs)') } }",
  worker_threads: 'module.exports = { isMainThread: true }',
  // Loaded by pino for its `redact` option, which the gate does not set.
  redact: "module.exports = function redact () { throw new Error('pino redaction is not part of the gatekeeper gate build (scripts/build.mjs)') }",
};
const pinoStubs = {
  name: 'pino-stubs',
  setup(b) {
    const fromPino = (importer) => /[\\/]node_modules[\\/]pino[\\/]/.test(importer);
    const stub = (filter, path) => b.onResolve({ filter }, (a) => (fromPino(a.importer) ? { path, namespace: 'pino-stub' } : undefined));
    stub(/^\.\/(lib\/)?transport$/, 'transport');
    stub(/^sonic-boom$/, 'sonic-boom');
    stub(/^(node:)?worker_threads$/, 'worker_threads');
    stub(/^@pinojs\/redact$/, 'redact');
    b.onLoad({ filter: /.*/, namespace: 'pino-stub' }, (a) => ({ contents: PINO_STUBS[a.path], loader: 'js' }));
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const common = {
  absWorkingDir: root,
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  define: { __GATEKEEPER_BUILD__: JSON.stringify(buildId()) },
  // Bundled CommonJS dependencies (shell-quote, yaml) call require() only for
  // Node built-ins. process.getBuiltinModule (Node >= 20.16, the engines
  // floor) answers that without node:module. No top-level await here: it
  // would make every chunk an async module.
  banner: {
    js: "if(typeof process.getBuiltinModule!=='function'){process.stderr.write('gatekeeper: configuration error: Node '+process.version+' is too old, gatekeeper needs Node >= 20.16\\n');process.exit(78)}const require=(m)=>{const b=process.getBuiltinModule(m);if(b===undefined)throw new Error('gatekeeper bundle: not a built-in module: '+m);return b};",
  },
  logLevel: 'warning',
};

// The CLI: the entry, commander and one lazily loaded chunk set per command.
// dist/audit-part.mjs: the worker thread of audit's split read (src/audit/read/split.ts), beside the entry.
await build({ ...common, entryPoints: { gatekeeper: 'src/main.ts', 'audit-part': 'src/audit/part.ts' }, chunkNames: 'chunks/[name]-[hash]', plugins: [builtins] });

// The gate, built apart as CommonJS (see src/gate/entry.ts). Three builds,
// each one file, cold end first so that the warmer ones can name it: the
// policy parser and schema (yaml, zod), the gate's main chunk, the entry.
// Chunk names carry a content hash: install swaps in the entry last, so a
// gate starting during an install loads a complete old or new set.
// Dynamic import() becomes require(): a real import() would start the ES
// module loader, which the gate avoids.
const gateCommon = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: true,
  legalComments: 'none',
  supported: { 'dynamic-import': false },
  define: common.define,
  logLevel: 'warning',
  metafile: true,
};
/** Build one gate file; returns its path relative to `out`. */
async function gateFile(entry, name, plugins = []) {
  const r = await build({ ...gateCommon, entryPoints: { [name]: entry }, outdir: out, outExtension: { '.js': '.cjs' }, entryNames: name === 'gate' ? '[name]' : 'chunks/[name]-[hash]', plugins });
  return Object.keys(r.metafile.outputs)[0].replace(/^.*?(chunks\/[^/]+|gate\.cjs)$/, '$1');
}
/** Resolve an import of `spec` from `importer` (a regex on its path) to another gate file, kept external. */
const externalTo = (spec, importer, target) => ({
  name: `external-${target}`,
  setup(b) {
    b.onResolve({ filter: spec }, (a) => (importer.test(a.importer) ? { path: target, external: true } : undefined));
  },
});
const policyChunk = await gateFile('src/policy/load.ts', 'gate-policy');
// The answers to the key holder's own questions (src/gate/describe.ts): loaded only when one arrives.
const describeChunk = await gateFile('src/gate/describe.ts', 'gate-describe');
// rsync-time-backup's `test -e` and `df -T` (src/gate/questions.ts): loaded only when one arrives.
const questionsChunk = await gateFile('src/gate/questions.ts', 'gate-questions');
const mainChunk = await gateFile('src/gate/main.ts', 'gate-main', [
  pinoStubs,
  externalTo(/^\.\.\/policy\/load\.js$/, /[\\/]src[\\/]gate[\\/]policy\.ts$/, `./${policyChunk.slice('chunks/'.length)}`),
  externalTo(/^\.\/describe\.js$/, /[\\/]src[\\/]gate[\\/]main\.ts$/, `./${describeChunk.slice('chunks/'.length)}`),
  externalTo(/^\.\/questions\.js$/, /[\\/]src[\\/]gate[\\/]main\.ts$/, `./${questionsChunk.slice('chunks/'.length)}`),
]);
gateCommon.define = { ...gateCommon.define, __GATE_MAIN_CHUNK__: JSON.stringify(mainChunk) };
await gateFile('src/gate/entry.ts', 'gate', [externalTo(/^\.\/main\.js$/, /[\\/]src[\\/]gate[\\/]entry\.ts$/, `./${mainChunk}`)]);
writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');

// The self-contained executable's inputs (scripts/package.mjs makes it): its
// CommonJS main, sea/main.cjs (src/sea/main.ts), and the CLI as one CommonJS
// file, sea/cli.cjs: an executable's main is one CommonJS file whose
// require() loads built-ins only, so the CLI cannot be the ES module entry
// with its chunks. The gate's chunks above are carried as they are.
await build({ ...gateCommon, metafile: false, entryPoints: { main: 'src/sea/main.ts' }, outdir: join(out, 'sea'), outExtension: { '.js': '.cjs' } });
// import.meta.url is empty there: assets.ts asks node:sea instead.
await build({ ...gateCommon, metafile: false, define: { ...gateCommon.define, 'import.meta.url': '""' }, entryPoints: { cli: 'src/cli.ts' }, outdir: join(out, 'sea'), outExtension: { '.js': '.cjs' } });
