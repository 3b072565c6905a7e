// Production build: one ESM entry plus lazily loaded chunks, so the gate's
// path (main -> gate) never loads commander, audit, install or doctor.
//
// Usage: node scripts/build.mjs [--outdir DIR]   (default: dist/)
// The bench builds into its own directory so a concurrent `npm run build`
// cannot swap files under a running measurement.
import { build } from 'esbuild';
import { rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--outdir');
const out = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(root, 'dist');
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
  // Some CommonJS dependencies call require() on Node built-ins.
  banner: { js: "import{createRequire as __gkCreateRequire}from'node:module';const require=__gkCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
