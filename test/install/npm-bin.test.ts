// bin/gatekeeper, what `npx gatekeeper` and a global npm install run, takes
// `gate` through the gate's CommonJS bundle (dist/gate.cjs) like the
// installed launcher, and everything else through the CLI bundle. Proved on
// a copy of the package whose CLI bundle is a tripwire: the gate must still
// work, so the CLI bundle (and its ES module loader) was never on its path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NODE, readLog, recorded, REPO, writeRecorder } from '../helpers/gate.js';
import { tempDir, writePolicy } from '../helpers/policy.js';

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';
const TRIPWIRE = 'process.stderr.write("tripwire: the CLI bundle was loaded\\n"); process.exit(99);\n';

let dir: string;
let pkg: string;
let bin: string;
beforeAll(() => {
  dir = tempDir('gk-npm-bin-');
  // The package as npm installs it (package.json, bin/, dist/), and npm's link to its bin.
  pkg = join(dir, 'lib', 'node_modules', 'gatekeeper');
  mkdirSync(pkg, { recursive: true });
  cpSync(join(REPO, 'package.json'), join(pkg, 'package.json'));
  cpSync(join(REPO, 'bin'), join(pkg, 'bin'), { recursive: true });
  cpSync(join(REPO, 'dist'), join(pkg, 'dist'), { recursive: true });
  writeFileSync(join(pkg, 'dist', 'gatekeeper.mjs'), TRIPWIRE);
  bin = join(dir, 'bin', 'gatekeeper');
  mkdirSync(dirname(bin));
  symlinkSync('../lib/node_modules/gatekeeper/bin/gatekeeper', bin);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Run as npm's link is run: through its #! line (env node), with Node 24 first on PATH.
const run = (args: string[], cmd?: string) =>
  spawnSync(bin, args, {
    env: { PATH: `${dirname(NODE)}:/usr/bin:/bin`, USER: 'root', SSH_CONNECTION: '192.0.2.7 50000 192.0.2.1 22', ...(cmd ? { SSH_ORIGINAL_COMMAND: cmd } : {}) },
    encoding: 'utf8',
    input: '',
  });

describe('the npm bin (bin/gatekeeper)', () => {
  it('runs `gate` through dist/gate.cjs: allowed, rsync takes over the same pid, nothing on stdout', () => {
    const rec = writeRecorder(dir);
    const log = join(dir, 'gate.log');
    const pol = writePolicy(dir, { rsync: rec.path, log, access: 'read-only' }, 'p.yaml');
    const r = run(['gate', '--policy', pol], PULL);
    expect(r.stderr).not.toContain('tripwire');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const ran = recorded(rec.out)!;
    expect(ran.args.slice(0, 2)).toEqual(['--server', '--sender']);
    const [record] = readLog(log);
    expect(record).toMatchObject({ event: 'allow', exec: 'execve', pid: r.pid });
    expect(ran.pid).toBe(r.pid);
  });

  it('refuses through dist/gate.cjs with 77 and the reason', () => {
    const pol = writePolicy(dir, { rsync: '/usr/bin/rsync', log: join(dir, 'gate.log'), access: 'read-only' }, 'p.yaml');
    const r = run(['gate', '--policy', pol], 'id');
    expect(r.status, r.stderr).toBe(77);
    expect(r.stderr).toMatch(/^gatekeeper: refused: only rsync server calls/);
  });

  it('sends everything else, `gate --help` included, to the CLI bundle', () => {
    for (const args of [['--version'], ['gate', '--help'], ['gate', '-h'], ['audit', '--summary']]) {
      const r = run(args);
      expect([r.status, r.stderr], args.join(' ')).toEqual([99, 'tripwire: the CLI bundle was loaded\n']);
    }
  });

  it('with the real CLI bundle, the same bin prints the version and the gate help', () => {
    cpSync(join(REPO, 'dist', 'gatekeeper.mjs'), join(pkg, 'dist', 'gatekeeper.mjs'));
    try {
      expect(run(['--version']).stdout).toBe(`${JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version}\n`);
      expect(run(['gate', '--help']).stdout).toMatch(/^Usage: gatekeeper gate/);
    } finally {
      writeFileSync(join(pkg, 'dist', 'gatekeeper.mjs'), TRIPWIRE);
    }
  });
});
