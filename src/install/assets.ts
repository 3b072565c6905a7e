// Where the running bundle and its companions are. From the repository the
// bundle is dist/ (the build output) next to install/ and policies/; an
// installed copy (PREFIX/lib/gatekeeper) carries templates/ and policies/
// inside it, so it can install, uninstall and diagnose itself.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Assets {
  /** Directory holding gatekeeper.mjs, chunks/ and package.json. */
  bundleDir: string;
  /** Directory of launcher.in and logrotate.in. */
  templatesDir: string;
  /** Directory of the shipped policies (may not exist). */
  policiesDir: string;
}

export function findAssets(from: string = fileURLToPath(import.meta.url)): Assets {
  let dir = dirname(from);
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'gatekeeper.mjs')) && existsSync(join(dir, 'templates', 'launcher.in'))) {
      return { bundleDir: dir, templatesDir: join(dir, 'templates'), policiesDir: join(dir, 'policies') };
    }
    if (existsSync(join(dir, 'install', 'launcher.in'))) {
      // The repository: dist/ is the bundle.
      return { bundleDir: join(dir, 'dist'), templatesDir: join(dir, 'install'), policiesDir: join(dir, 'policies') };
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find gatekeeper's bundle and templates above ${from}`);
}

/** Fill `@NAME@` placeholders; every placeholder must be known (a typo must not ship). */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`template placeholder ${whole} has no value`);
    return v;
  });
}
