// The launcher install writes: `gate` goes straight to the gate's CommonJS
// bundle (the gate replaces the launcher's process: same pid as rsync),
// everything else to the CLI; whether node reads the launcher as CommonJS
// or, under a package.json of type "module", as an ES module.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launcherText } from '../../src/install/deploy.js';
import { NODE, readLog, recorded, REPO, writeRecorder } from '../helpers/gate.js';
import { tempDir, writePolicy } from '../helpers/policy.js';

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';

let dir: string;
let launcher: string;
beforeEach(() => {
  dir = tempDir();
  launcher = join(dir, 'gatekeeper');
  writeFileSync(launcher, launcherText(readFileSync(join(REPO, 'install', 'launcher.in'), 'utf8'), NODE, join(REPO, 'dist')), { mode: 0o755 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], cmd?: string) =>
  spawnSync(launcher, args, { env: { PATH: '/usr/bin:/bin', USER: 'root', SSH_CONNECTION: '192.0.2.7 50000 192.0.2.1 22', ...(cmd ? { SSH_ORIGINAL_COMMAND: cmd } : {}) }, encoding: 'utf8', input: '' });

describe.each([
  ['CommonJS', false],
  ['an ES module (package.json type "module")', true],
])('the launcher read as %s', (_, esm) => {
  beforeEach(() => {
    if (esm) writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  });

  it('runs the gate for `gate`: the policy\'s rsync (a recorder script) takes over the launcher\'s process, one allow record', () => {
    const rec = writeRecorder(dir);
    const log = join(dir, 'gate.log');
    const pol = writePolicy(dir, { rsync: rec.path, log, access: 'read-only' }, 'p.yaml');
    const r = run(['gate', '--policy', pol], PULL);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const ran = recorded(rec.out)!;
    expect(ran.args.slice(0, 2)).toEqual(['--server', '--sender']);
    const [record] = readLog(log);
    expect(record).toMatchObject({ event: 'allow', exec: 'execve', pid: r.pid });
    expect(ran.pid).toBe(r.pid);
  });

  it('refuses through the gate with 77 and a reason', () => {
    const pol = writePolicy(dir, { rsync: '/usr/bin/rsync', log: join(dir, 'gate.log'), access: 'read-only' }, 'p.yaml');
    const r = run(['gate', '--policy', pol], 'id');
    expect(r.status).toBe(77);
    expect(r.stderr).toMatch(/^gatekeeper: refused: only rsync server calls/);
  });

  it('sends `gate --help` and the other commands to the CLI', () => {
    expect(run(['gate', '--help']).stdout).toMatch(/^Usage: gatekeeper gate/);
    expect(run(['--version']).stdout).toBe('0.1.0\n');
  });
});
