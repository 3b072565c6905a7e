// Production build: one ESM entry plus lazily loaded chunks, so the gate's
// path (main -> gate) never loads commander, audit, install or doctor.
//
// Usage: node scripts/build.mjs [--outdir DIR]   (default: dist/)
// The bench builds into its own directory so a concurrent `npm run build`
// cannot swap files under a running measurement.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
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

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  absWorkingDir: root,
  entryPoints: { gatekeeper: 'src/main.ts' },
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
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [pinoStubs],
  define: { __GATEKEEPER_BUILD__: JSON.stringify(buildId()) },
  // Some CommonJS dependencies call require() on Node built-ins.
  banner: { js: "import{createRequire as __gkCreateRequire}from'node:module';const require=__gkCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
