// The attack corpus against the real gate process: every string is refused
// with exit 77, its specific code and reason (on stderr, one line, and in the
// log), nothing on stdout, and the target never runs — the policy's rsync is
// a recorder that would leave a marker file. At the end the policy root and
// the directory outside it are byte-for-byte as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allAttacks, PULL, type Attack } from './corpus.js';
import { GATEKEEPER, listing, makeLab, pool, SSH_CONNECTION, type GateRun, type Lab } from './lab.js';
import { parseRecordLine } from '../../src/log/record.js';

const ATTACKS = allAttacks();
let lab: Lab;
let before: string[];
/** Each attack's run, started together in beforeAll (16 at a time) so the corpus stays fast. */
const runs = new Map<Attack, Promise<GateRun>>();

beforeAll(() => {
  lab = makeLab('gk-sec-attacks-');
  const conf = join(lab.dir, 'rsyncd.conf');
  writeFileSync(conf, '[data]\npath = /nonexistent\n', { mode: 0o600 });
  lab.writePolicy('daemon', { rsync: lab.recorder, daemon: { config: conf } });
  lab.writePolicy('readonly', { rsync: lab.recorder, access: 'read-only', root: lab.root, allowTrue: false });
  lab.writePolicy('writeonly', { rsync: lab.recorder, access: 'write-only', root: lab.root });
  before = [...listing(lab.root), '--', ...listing(lab.outside), '--', ...listing(lab.twin)];
  const policyOf = (x: Attack) => (x.policy ? join(lab.policyDir, `${x.policy}.yaml`) : lab.policy);
  const all = pool(ATTACKS, 16, (x) => lab.run({ command: x.command, policy: policyOf(x) }));
  ATTACKS.forEach((x, k) => runs.set(x, all.then((r) => r[k]!)));
});

afterAll(() => {
  lab?.cleanup();
});

describe('the corpus itself', () => {
  it('has one entry per command and policy (so each log record is found unambiguously)', () => {
    const keys = ATTACKS.map((x) => `${x.policy ?? 'lab'}\0${x.command}`);
    const dupes = keys.filter((k, i) => keys.indexOf(k) !== i);
    expect(dupes).toEqual([]);
    expect(ATTACKS.length).toBeGreaterThan(150);
  });
});

describe('every attack is refused with its reason, and nothing runs', () => {
  it.for(ATTACKS)('$name', async (attack: Attack) => {
    const policy = attack.policy ? join(lab.policyDir, `${attack.policy}.yaml`) : lab.policy;
    const r = await runs.get(attack)!;
    const context = `command: ${JSON.stringify(attack.command.slice(0, 200))}\nstderr: ${r.stderr}`;
    expect(r.stdout.length, context).toBe(0);
    expect(r.code, context).toBe(77);
    // One line, prefixed, with the reason.
    expect(r.stderr, context).toMatch(/^gatekeeper: refused: [^\n]*\n$/);
    expect(r.stderr, context).toMatch(attack.reason);
    expect(existsSync(lab.marker), `the target ran for ${context}`).toBe(false);
    const record = lab.records().find((x) => x.command === attack.command && x.policy === policy);
    expect(record, context).toBeDefined();
    expect(record!.event).toBe('deny');
    expect(record!.code, context).toBe(attack.code);
    expect(record!.reason).toMatch(attack.reason);
    expect(record!.status).toBe(77);
  });
});

describe('payloads the environment can carry', () => {
  it('invalid UTF-8 in SSH_ORIGINAL_COMMAND is refused, and logged as what it decodes to', () => {
    // Node cannot put raw bytes into a child's environment; printf in sh can.
    // (A test-side shell, to build the bytes: the gate itself never runs one.)
    const script = `SSH_ORIGINAL_COMMAND="$(printf '${PULL} . data/\\377\\376')" exec "$0" "$1" gate --policy "$2"`;
    const r = spawnSync('/bin/sh', ['-c', script, process.execPath, GATEKEEPER, lab.policy], {
      env: { SSH_CONNECTION, USER: 'root', PATH: '/usr/bin:/bin' },
      encoding: 'buffer',
    });
    expect(r.stdout.length).toBe(0);
    expect(r.status).toBe(77);
    expect(r.stderr.toString()).toMatch(/^gatekeeper: refused: invisible or look-alike Unicode characters .*U\+FFFD from invalid UTF-8.*\n$/);
    expect(existsSync(lab.marker)).toBe(false);
    const line = lab.records().find((x) => x.command?.startsWith(`${PULL} . data/\ufffd`));
    expect(line?.code).toBe('shell-syntax');
  });

  it('no SSH_ORIGINAL_COMMAND (an interactive shell) is refused', async () => {
    const r = await lab.run({ command: null });
    expect(r.stdout.length).toBe(0);
    expect(r.code).toBe(77);
    expect(r.stderr).toBe('gatekeeper: refused: this key runs rsync only: an interactive shell was requested (no command given)\n');
    expect(existsSync(lab.marker)).toBe(false);
    expect(lab.records().some((x) => x.command === null && x.code === 'shell')).toBe(true);
  });

  it('variables in the gate\'s own environment (LD_PRELOAD, BASH_ENV) change no refusal, and never reach rsync', async () => {
    // sshd may pass variables (PermitUserEnvironment, AcceptEnv): the decision must not depend on them.
    // Files that exist and act: a library the loader really preloads into the
    // gate (the C library the tests run on: loaded twice, it is harmless), and
    // a BASH_ENV script that leaves a marker whenever a bash starts.
    const libc = readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? '').find((f) => /\/libc\.so\.6$/.test(f));
    expect(libc, 'the C library of this process').toBeDefined();
    const sourced = join(lab.dir, 'BASH_ENV-SOURCED');
    const bashEnv = join(lab.dir, 'evil-bash-env.sh');
    writeFileSync(bashEnv, `echo sourced >> '${sourced}'\n`);
    // (stdin not a socket: on one, Debian's bash reads ~/.bashrc instead, as under rshd or sshd.)
    expect(spawnSync('/bin/bash', ['-c', 'true'], { env: { BASH_ENV: bashEnv }, stdio: 'ignore' }).status).toBe(0);
    expect(readFileSync(sourced, 'utf8'), 'the BASH_ENV script acts when a bash starts').toBe('sourced\n');
    rmSync(sourced);
    const env = { LD_PRELOAD: libc!, BASH_ENV: bashEnv };

    const plain = await lab.run({ command: `${PULL} . data/; id` });
    const r = await lab.run({ command: `${PULL} . data/; id`, env });
    expect(r.code).toBe(77);
    expect(r.stderr).toBe(plain.stderr);
    expect(existsSync(lab.marker)).toBe(false);

    // Allowed, in a lab of its own (this one's log must hold refusals only),
    // with a bash script as rsync: a variable passed on would show in its
    // environment, and BASH_ENV would be sourced.
    const own = makeLab('gk-sec-env-');
    try {
      const target = join(own.dir, 'bin', 'bash-rsync');
      writeFileSync(target, `#!/bin/bash\nenv > '${own.marker}.env'\necho ran > '${own.marker}'\n`, { mode: 0o755 });
      const policy = own.writePolicy('bash-target', { rsync: target, access: 'read-only', root: own.root });
      const ok = await own.run({ policy, command: `${PULL} . data/`, env });
      expect(ok.code, ok.stderr).toBe(0);
      expect(readFileSync(own.marker, 'utf8'), 'the recorder (a bash script) ran').toBe('ran\n');
      expect(readFileSync(`${own.marker}.env`, 'utf8')).not.toMatch(/^(LD_PRELOAD|BASH_ENV)=/m);
      expect(existsSync(sourced), 'BASH_ENV was sourced by rsync\'s bash').toBe(false);
    } finally {
      own.cleanup();
    }
   }, 180_000);
});

describe('the client\'s program word is never run', () => {
  it.each(['/tmp/gk-evil/rsync', '/bin/../tmp/rsync', 'rsync'])('%s: argv[0] is the policy\'s rsync, and "--" precedes "."', (program) => {
    const r = spawnSync(process.execPath, [GATEKEEPER, 'check', '--json', '--policy', lab.policy, '--', `${program} --server --sender -vlogDtpre.iLsf . data/`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { argv: string[] };
    expect(out.argv[0]).toBe(lab.recorder);
    // The pull is pinned: rsync starts inside ROOT/data and sends "./".
    expect(out.argv.slice(-3)).toEqual(['--', '.', './']);
  });
});

describe('the log after the whole corpus', () => {
  it('holds only deny records, every line a complete record', () => {
    const lines = readFileSync(lab.log, 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const r = parseRecordLine(line);
      expect(r, line).not.toBeNull();
      expect(r!.event, line).toBe('deny');
    }
  });

  it('nothing inside or outside the policy root was created, changed or removed', () => {
    expect([...listing(lab.root), '--', ...listing(lab.outside), '--', ...listing(lab.twin)]).toEqual(before);
    expect(existsSync(lab.marker)).toBe(false);
  });
});

