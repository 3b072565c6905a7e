// What install deploys and the files it ships, wherever gatekeeper runs from:
// - the npm build: the bundle is dist/ (the build output) next to install/
//   and policies/; an installed copy (PREFIX/lib/gatekeeper) carries
//   templates/ and policies/ inside it, so it can install, uninstall and
//   diagnose itself. Install deploys the bundle and a launcher.
// - the self-contained executable (scripts/package.mjs): the templates and
//   policies are carried inside it (node:sea assets); install deploys the
//   executable itself, or nothing when it is a package's PACKAGED_BINARY.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the .deb and .rpm put the executable (scripts/lib/package-files.mjs). */
export const PACKAGED_BINARY = '/usr/bin/gatekeeper';

export type Runtime =
  /** The npm build: the directory holding gatekeeper.mjs, gate.cjs, chunks/ and package.json. */
  | { kind: 'bundle'; bundleDir: string }
  /** The self-contained executable: its path. */
  | { kind: 'executable'; file: string };

export interface Assets {
  runtime: Runtime;
  /** A shipped template's bytes: launcher.in, logrotate.in, rsyncd.conf. */
  template(name: string): Buffer;
  /** The shipped policies: file name (system-backup.yaml) → bytes. */
  policies: ReadonlyMap<string, Buffer>;
  /** Where the shipped policies come from, for messages. */
  policiesFrom: string;
}

export const TEMPLATES = ['launcher.in', 'logrotate.in', 'rsyncd.conf', 'gatekeeper-metrics.service.in', 'gatekeeper-metrics.timer.in', 'gatekeeper-metrics.cron.in'] as const;
const POLICY_FILE = /\.(ya?ml|json)$/;

function readPolicies(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) if (POLICY_FILE.test(name)) out.set(name, readFileSync(join(dir, name)));
  return out;
}

function fromDirs(bundleDir: string, templatesDir: string, policiesDir: string): Assets {
  return {
    runtime: { kind: 'bundle', bundleDir },
    template: (name) => readFileSync(join(templatesDir, name)),
    policies: readPolicies(policiesDir),
    policiesFrom: policiesDir,
  };
}

/** The executable's carried files (node:sea assets named templates/NAME and policies/NAME, listed in manifest.json). */
function fromExecutable(): Assets {
  const sea = process.getBuiltinModule('node:sea') as typeof import('node:sea');
  const manifest = JSON.parse(sea.getAsset('manifest.json', 'utf8')) as { policies: string[] };
  const asset = (name: string) => Buffer.from(sea.getAsset(name));
  return {
    runtime: { kind: 'executable', file: process.execPath },
    template: (name) => asset(`templates/${name}`),
    policies: new Map(manifest.policies.map((p) => [p, asset(`policies/${p}`)])),
    policiesFrom: `${process.execPath} (built in)`,
  };
}

/** True inside the self-contained executable. */
export function inExecutable(): boolean {
  const sea = process.getBuiltinModule('node:sea') as typeof import('node:sea') | undefined;
  return sea?.isSea() === true;
}

export function findAssets(from?: string): Assets {
  if (from === undefined && inExecutable()) return fromExecutable();
  const start = from ?? fileURLToPath(import.meta.url);
  let dir = dirname(start);
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'gatekeeper.mjs')) && existsSync(join(dir, 'templates', 'launcher.in'))) {
      return fromDirs(dir, join(dir, 'templates'), join(dir, 'policies'));
    }
    if (existsSync(join(dir, 'install', 'launcher.in'))) {
      // The repository: dist/ is the bundle.
      return fromDirs(join(dir, 'dist'), join(dir, 'install'), join(dir, 'policies'));
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find gatekeeper's bundle and templates above ${start}`);
}

/** Fill `@NAME@` placeholders; every placeholder must be known (a typo must not ship). */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`template placeholder ${whole} has no value`);
    return v;
  });
}
