// The linux-arm64 executable, run on this x64 machine under
// qemu-aarch64-static, with Debian's arm64 glibc, libstdc++ and libgcc_s from
// runtimes/arm64-sysroot (scripts/arm64-sysroot.sh: unpacked, not installed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recorded, REPO, writeRecorder } from '../helpers/gate.js';
import { tempDir } from '../helpers/policy.js';
import { executable, VERSION } from './helpers.js';

const QEMU = '/usr/bin/qemu-aarch64-static';
const SYSROOT = join(REPO, 'runtimes', 'arm64-sysroot');
const SEED_PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';
const PUSH = 'rsync --server -vlogDtprze.iLsfxCIvu --numeric-ids . /';

function arm64(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(QEMU, ['-L', SYSROOT, executable('arm64'), ...args], { env: { PATH: '/usr/bin:/bin', ...env }, input: '', encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the linux-arm64 executable under qemu-aarch64-static', { timeout: 20 * 60_000 }, () => {
  let dir: string;
  let log: string;
  let policy: string;
  let rsync: { path: string; out: string };

  beforeAll(() => {
    executable('arm64');
    if (!existsSync(join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) throw new Error(`${SYSROOT} is missing: run bash scripts/arm64-sysroot.sh (npm test's pretest does)`);
    dir = tempDir('gk-arm64-');
    for (const d of ['log', 'state', 'tree', 'bin']) mkdirSync(join(dir, d), { mode: 0o700 });
    rsync = writeRecorder(join(dir, 'bin'));
    log = join(dir, 'log', 'gatekeeper.log');
    policy = join(dir, 'pull.yaml');
    writeFileSync(policy, `rsync: ${rsync.path}\naccess: read-only\nroot: ${dir}/tree\nlog: ${log}\nstateDir: ${dir}/state\n`, { mode: 0o600 });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is an aarch64 ELF file, and says its version', () => {
    const head = readFileSync(executable('arm64')).subarray(0, 20);
    expect(head.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(head.readUInt16LE(18)).toBe(183); // e_machine EM_AARCH64
    const r = arm64(['--version']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('check: allows the seed pull, refuses a push', () => {
    const ok = arm64(['check', '--policy', policy, '--', SEED_PULL]);
    expect(ok.status, ok.stderr + ok.stdout).toBe(0);
    const no = arm64(['check', '--policy', policy, '--', PUSH]);
    expect(no.status, no.stderr + no.stdout).toBe(77);
  });

  it('the gate refuses a push, and execs rsync for the pull in its own process', () => {
    const env = { SSH_CONNECTION: '127.0.0.1 50000 127.0.0.1 22' };
    const no = arm64(['gate', '--policy', policy], { ...env, SSH_ORIGINAL_COMMAND: PUSH });
    expect(no.status, no.stderr).toBe(77);
    expect(no.stderr).toMatch(/^gatekeeper: refused: /);
    const yes = arm64(['gate', '--policy', policy], { ...env, SSH_ORIGINAL_COMMAND: SEED_PULL });
    expect(yes.status, yes.stderr).toBe(0);
    const ran = recorded(rsync.out);
    expect(ran?.args).toEqual(['--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '--', '.', './']);
    expect(ran?.cwd).toBe(`${dir}/tree`);
    const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: string; pid: number; exec?: string });
    expect(records.map((r) => r.event)).toEqual(['deny', 'allow']);
    expect(records[1]).toMatchObject({ exec: 'execve', pid: ran?.pid });
  });
});
