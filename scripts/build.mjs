// Production build: one ESM entry plus lazily loaded chunks, so the gate's
// path (main -> gate) never loads commander, audit, install or doctor.
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
 * pino is the log writer, configured with our own synchronous write function
 * (src/log/writer.ts: one write() per record on an O_APPEND descriptor). Its
 * other destinations are never used, yet pino loads them at start-up:
 * transports (thread-stream, a worker thread) and SonicBoom (with assert),
 * together about as much start-up as all the rest of the gate. They are
 * replaced by stubs that throw if anything ever calls them. pino's own
 * "am I the main thread?" check is answered true: the bundle never runs
 * pino in a worker thread.
 */
const PINO_STUBS = {
  transport: "module.exports = function transport () { throw new Error('pino transports are not part of the gatekeeper build (scripts/build.mjs)') }",
  'sonic-boom': "module.exports = class SonicBoom { constructor () { throw new Error('pino.destination is not part of the gatekeeper build (scripts/build.mjs)') } }",
  worker_threads: 'module.exports = { isMainThread: true }',
};
const pinoStubs = {
  name: 'pino-stubs',
  setup(b) {
    const fromPino = (importer) => /[\\/]node_modules[\\/]pino[\\/]/.test(importer);
    b.onResolve({ filter: /^\.\/(lib\/)?transport$/ }, (a) => (fromPino(a.importer) ? { path: 'transport', namespace: 'pino-stub' } : undefined));
    b.onResolve({ filter: /^sonic-boom$/ }, (a) => (fromPino(a.importer) ? { path: 'sonic-boom', namespace: 'pino-stub' } : undefined));
    b.onResolve({ filter: /^(node:)?worker_threads$/ }, (a) => (fromPino(a.importer) ? { path: 'worker_threads', namespace: 'pino-stub' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'pino-stub' }, (a) => ({ contents: PINO_STUBS[a.path], loader: 'js' }));
  },
};

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

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

/**
 * The gate's entry is imported by the CLI entry (src/main.ts) as a file of
 * its own, built below: the CLI build must not pull the gate into its chunks.
 */
const gateApart = {
  name: 'gate-apart',
  setup(b) {
    b.onResolve({ filter: /^\.\/gate\/entry\.js$/ }, (a) => (/[\\/]src[\\/]main\.ts$/.test(a.importer) ? { path: './gate.mjs', external: true } : undefined));
  },
};

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
  // Bundled CommonJS dependencies (pino, shell-quote) call require() only for
  // Node built-ins. process.getBuiltinModule (Node >= 20.16, the engines
  // floor) answers that without node:module, whose loading sets up the whole
  // CommonJS loader (~3 ms of the gate's start-up). No top-level await here:
  // it would make every chunk an async module.
  banner: {
    js: "if(typeof process.getBuiltinModule!=='function'){process.stderr.write('gatekeeper: configuration error: Node '+process.version+' is too old, gatekeeper needs Node >= 20.16\\n');process.exit(78)}const require=(m)=>{const b=process.getBuiltinModule(m);if(b===undefined)throw new Error('gatekeeper bundle: not a built-in module: '+m);return b};",
  },
  logLevel: 'warning',
};

// The CLI: the entry, commander and one lazily loaded chunk set per command.
await build({ ...common, entryPoints: { gatekeeper: 'src/main.ts' }, chunkNames: 'chunks/[name]-[hash]', plugins: [pinoStubs, builtins, gateApart] });

// The gate, built apart: its whole start-up path lands in one file (gate.mjs)
// instead of a dozen chunks shared with the admin commands, each of which
// Node would resolve, read and compile on every connection (~1.5 ms). What it
// loads only sometimes (the YAML parser and schema, syslog, the spawn
// fallback) stays in chunks of its own.
await build({ ...common, entryPoints: { gate: 'src/gate/entry.ts' }, chunkNames: 'chunks/gate-[name]-[hash]', plugins: [pinoStubs, builtins] });
writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
