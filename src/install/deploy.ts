// Deploying the bundle to PREFIX/lib/gatekeeper. Chunk names carry a content
// hash, so new chunks never overwrite old ones: they are written first, the
// entries gate.cjs and gatekeeper.mjs (which name them) are swapped in last
// and atomically, and only then are chunks nothing refers to any more
// removed. A gate starting at any moment of an install finds a complete old
// or new bundle.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fillTemplate, TEMPLATES, type Assets } from './assets.js';
import { atomicWrite, ensureDir } from './fsutil.js';

export interface BundleFile {
  /** Path relative to the lib directory. */
  rel: string;
  data: Buffer;
}

function listFiles(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/** The entries: each names chunks, so each is written after them (the gate's first). */
const ENTRIES = ['gate.cjs', 'gatekeeper.mjs'];

/** Everything the lib directory must hold, entries last; nothing for the self-contained executable. */
export function bundleFiles(assets: Assets): BundleFile[] {
  if (assets.runtime.kind !== 'bundle') return [];
  const { bundleDir } = assets.runtime;
  for (const name of ENTRIES) {
    const entry = join(bundleDir, name);
    if (!existsSync(entry)) throw new Error(`${entry} is missing: build the bundle first (npm run build)`);
  }
  const files: BundleFile[] = [];
  for (const rel of listFiles(bundleDir)) {
    if (ENTRIES.includes(rel) || rel.startsWith('templates/') || rel.startsWith('policies/') || rel.startsWith('sea/')) continue;
    files.push({ rel, data: readFileSync(join(bundleDir, rel)) });
  }
  for (const t of TEMPLATES) files.push({ rel: `templates/${t}`, data: assets.template(t) });
  for (const [name, data] of assets.policies) files.push({ rel: `policies/${name}`, data });
  for (const name of ENTRIES) files.push({ rel: name, data: readFileSync(join(bundleDir, name)) });
  return files;
}

/** Which bundle files differ from what is deployed. */
export function bundleChanges(lib: string, files: readonly BundleFile[]): { changed: string[]; stale: string[] } {
  const changed = files.filter((f) => {
    try {
      return !readFileSync(join(lib, f.rel)).equals(f.data);
    } catch {
      return true;
    }
  }).map((f) => f.rel);
  const wanted = new Set(files.map((f) => f.rel));
  // Chunks nothing refers to any more, and entries an older build had (gate.mjs before the gate was CommonJS).
  const stale = listFiles(lib).filter((rel) => !wanted.has(rel) && (rel.startsWith('chunks/') || /^[^/]+\.(mjs|cjs)$/.test(rel)));
  return { changed, stale };
}

/** Write the bundle (entry last), then drop chunks nothing refers to. Returns the deployed paths. */
export function deployBundle(lib: string, files: readonly BundleFile[]): { written: string[]; createdDirs: string[] } {
  const createdDirs = ensureDir(lib, 0o755);
  const written: string[] = [];
  for (const f of files) {
    const path = join(lib, f.rel);
    createdDirs.push(...ensureDir(join(path, '..'), 0o755));
    let same = false;
    try {
      same = readFileSync(path).equals(f.data) && (statSync(path).mode & 0o7777) === 0o644 && statSync(path).uid === 0;
    } catch {
      same = false;
    }
    if (!same) atomicWrite(path, f.data, { mode: 0o644, uid: 0, gid: 0 });
    written.push(path);
  }
  for (const rel of bundleChanges(lib, files).stale) rmSync(join(lib, rel), { force: true });
  return { written, createdDirs };
}

/** Remove deployed files and, when empty, their directories. */
export function removeBundle(lib: string, deployed: readonly string[]): void {
  for (const p of deployed) if (p.startsWith(`${lib}/`)) rmSync(p, { force: true });
  for (const sub of ['chunks', 'templates', 'policies', '']) {
    try {
      rmdirSync(join(lib, sub));
    } catch {
      // not empty or already gone: leave it
    }
  }
}

export function launcherText(template: string, node: string, lib: string): string {
  const gate = join(lib, 'gate.cjs');
  return fillTemplate(template, {
    NODE: node,
    GATE_PATH: JSON.stringify(gate),
    GATE_URL: JSON.stringify(pathToFileURL(gate).href),
    BUNDLE_URL: JSON.stringify(pathToFileURL(join(lib, 'gatekeeper.mjs')).href),
  });
}
