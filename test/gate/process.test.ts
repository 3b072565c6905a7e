// The gate and check as real processes: exit codes, an empty stdout, the
// log record, and what actually ran.
import { beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { CACHE_DIR } from '../../src/paths.js';
import { decodeCodeCache } from '../../src/gate/code-cache.js';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { NODE, REPO, recorded, readLog, runCli, runGate, NODE20, writeRecorder } from '../helpers/gate.js';
import { tempDir, writePolicy } from '../helpers/policy.js';

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';
const env = (cmd: string | undefined) => ({ SSH_ORIGINAL_COMMAND: cmd, SSH_CONNECTION: '203.0.113.9 50123 192.0.2.1 22', USER: 'root' });

let dir: string;
let log: string;
let rec: { path: string; out: string };
let pol: string;
beforeEach(() => {
  dir = tempDir();
  log = join(dir, 'gate.log');
  rec = writeRecorder(dir);
  pol = writePolicy(dir, { rsync: rec.path, log, access: 'read-only' }, 'p.yaml');
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('gate (execve, Node 24)', () => {
  it('allows the original setup pull: nothing on stdout, the policy\'s rsync (a recorder script) replaces the gate in its process, one allow record', () => {
    const r = runGate(['--policy', pol], env(PULL));
    expect(r.status).toBe(0);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toBe('');
    const ran = recorded(rec.out)!;
    expect(ran.args).toEqual(['--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '--', '.', './']);
    expect(ran.cwd).toBe('/');
    expect(ran.home).toBe('/nonexistent');
    const [record, ...rest] = readLog(log);
    expect(rest).toEqual([]);
    expect(record).toMatchObject({ event: 'allow', exec: 'execve', policy: pol, user: 'root', client: { addr: '203.0.113.9', port: 50123 }, command: PULL, argv: [rec.path, ...ran.args] });
    // Same pid: rsync is the gate's process, nothing of Node stays resident.
    expect(ran.pid).toBe(record!.pid);
  });

  it.runIf(process.getuid?.() === 0)('leaves a code cache of its main chunk, made from exactly that chunk, which later runs use', () => {
    const chunks = readdirSync(join(REPO, 'dist', 'chunks')).filter((f) => /^gate-main-.*\.cjs$/.test(f));
    expect(chunks).toHaveLength(1);
    const chunk = join(REPO, 'dist', 'chunks', chunks[0]!);
    const version = spawnSync(NODE, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim();
    const cacheFile = join(CACHE_DIR, 'code', `${chunks[0]}-${version}-${process.arch}.bin`);
    rmSync(cacheFile, { force: true });
    expect(runGate(['--policy', pol], env(PULL)).status).toBe(0);
    const cached = readFileSync(cacheFile);
    expect(decodeCodeCache(cached, readFileSync(chunk))?.length).toBeGreaterThan(1000);
    // A second allowed run and a refusal both work from it.
    expect(runGate(['--policy', pol], env(PULL)).status).toBe(0);
    expect(runGate(['--policy', pol], env('rsync --server -vlogDtpre.iLsfxCIvu . /etc/')).status).toBe(77);
    expect(readLog(log).map((x) => x.event)).toEqual(['allow', 'allow', 'deny']);
  });

  it('refuses with 77, a reason on stderr, nothing on stdout, nothing run, a deny record', () => {
    const r = runGate(['--policy', pol], env('rsync --server -vlogDtpre.iLsfxCIvu . /etc/'));
    expect(r.status).toBe(77);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(/^gatekeeper: refused: this policy is read-only/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(rec.out)).toBe(false);
    expect(readLog(log)).toMatchObject([{ event: 'deny', code: 'access', status: 77 }]);
  });

  it('refuses a shell (no SSH_ORIGINAL_COMMAND, in a policy with describe: false) and shell syntax', () => {
    const quiet = writePolicy(dir, { rsync: rec.path, log, access: 'read-only', describe: false }, 'quiet.yaml');
    expect(runGate(['--policy', quiet], env(undefined))).toMatchObject({ status: 77, stderr: expect.stringMatching(/interactive shell/) });
    expect(runGate(['--policy', pol], env(`${PULL}; touch ${dir}/pwned`)).status).toBe(77);
    expect(existsSync(join(dir, 'pwned'))).toBe(false);
    expect(readLog(log).map((x) => x.code)).toEqual(['shell', 'shell-syntax']);
  });

  it('exits 0 for the connectivity check "true" without running anything', () => {
    expect(runGate(['--policy', pol], env('true')).status).toBe(0);
    expect(existsSync(rec.out)).toBe(false);
    expect(readLog(log)).toMatchObject([{ event: 'allow', argv: null }]);
  });

  it('configuration errors exit 78 and run nothing', () => {
    const missing = runGate(['--policy', join(dir, 'nope.yaml')], env(PULL));
    expect(missing).toMatchObject({ status: 78, stderr: expect.stringMatching(/^gatekeeper: configuration error: policy .* not found/) });
    writeFileSync(join(dir, 'bad.yaml'), 'access: [unclosed\n', { mode: 0o600 });
    expect(runGate(['--policy', join(dir, 'bad.yaml')], env(PULL))).toMatchObject({ status: 78, stderr: expect.stringMatching(/not valid YAML/) });
    const invalid = writePolicy(dir, { access: 'sometimes', colour: 'blue' } as never, 'invalid.json');
    expect(runGate(['--policy', invalid], env(PULL))).toMatchObject({ status: 78, stderr: expect.stringMatching(/access.*colour|colour.*access/s) });
    const noTarget = writePolicy(dir, { rsync: join(dir, 'missing-rsync'), log }, 'notarget.json');
    expect(runGate(['--policy', noTarget], env(PULL))).toMatchObject({ status: 78, stderr: expect.stringMatching(/missing-rsync does not exist/) });
    expect(readLog(log).at(-1)).toMatchObject({ event: 'error', code: 'target' });
    const noLogDir = writePolicy(dir, { rsync: rec.path, log: join(dir, 'no', 'such', 'dir', 'x.log') }, 'nolog.json');
    expect(runGate(['--policy', noLogDir], env(PULL))).toMatchObject({ status: 78, stderr: expect.stringMatching(/cannot open the log/) });
    expect(existsSync(rec.out)).toBe(false);
  });

  it('refuses an untrusted policy (group-writable) and an untrusted target', () => {
    chmodSync(pol, 0o664);
    expect(runGate(['--policy', pol], env(PULL))).toMatchObject({ status: 78, stderr: expect.stringMatching(/writable by group or others/) });
    chmodSync(pol, 0o600);
    chmodSync(rec.path, 0o757);
    expect(runGate(['--policy', pol], env(PULL))).toMatchObject({ status: 78, stderr: expect.stringMatching(/untrusted: .*rsync is writable/) });
    expect(existsSync(rec.out)).toBe(false);
  });

  it('finds a policy by name in --policy-dir', () => {
    const pdir = join(dir, 'policies');
    mkdirSync(pdir, { mode: 0o755 });
    writePolicy(pdir, { rsync: rec.path, log }, 'backup.yaml');
    expect(runGate(['--policy', 'backup', '--policy-dir', pdir], env(PULL)).status).toBe(0);
    expect(runGate(['--policy', '../backup', '--policy-dir', pdir], env(PULL)).status).toBe(78);
  });

  it('usage errors exit 64', () => {
    expect(runGate([], env(PULL)).status).toBe(64);
    expect(runGate(['--policy', pol, '--bogus'], env(PULL)).status).toBe(64);
  });
});

describe('gate (spawn fallback, system Node 20)', () => {
  it('runs rsync as a child, passes its exit status through, logs allow and exit', () => {
    const failing = writeRecorder(join(dir), 3);
    const r = runGate(['--policy', pol], env(PULL), { node: NODE20 });
    expect(r.status).toBe(3);
    expect(r.stdout.length).toBe(0);
    const ran = recorded(failing.out)!;
    const records = readLog(log);
    expect(records.map((x) => x.event)).toEqual(['allow', 'exit']);
    expect(records[0]).toMatchObject({ exec: 'spawn' });
    expect(records[1]).toMatchObject({ status: 3, session: records[0]!.session });
    expect(ran.ppid).toBe(records[0]!.pid);
  });
});

describe('check', () => {
  it('prints the decision and exits 0 / 77 / 78', () => {
    const ok = runCli(['check', '--json', '--policy', pol, '--', PULL]);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout.toString())).toMatchObject({ decision: 'allow', argv: [rec.path, '--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '--', '.', './'], policy: pol });
    const no = runCli(['check', '--policy', pol, '--', 'rsync --server --sender -v --log-file=/tmp/x . /']);
    expect(no.status).toBe(77);
    expect(no.stdout.toString()).toMatch(/^DENY[\s\S]*--log-file is always refused/);
    expect(runCli(['check', '--policy', join(dir, 'nope.yaml'), '--', PULL]).status).toBe(78);
    expect(readLog(log)).toEqual([]);
  });
  it('under a DENY prints no "would have run": nothing runs', () => {
    // Outside the window: the command itself is fine, so the decision carries an argv.
    const windowed = writePolicy(dir, { rsync: rec.path, log, access: 'read-only', window: ['02:00-03:00'], timezone: 'UTC' }, 'w.yaml');
    const no = runCli(['check', '--policy', windowed, '--at', '2026-12-02T14:00', '--', PULL]);
    expect(no.status).toBe(77);
    expect(no.stdout.toString()).toMatch(/^DENY[\s\S]*outside this policy's backup window/);
    expect(no.stdout.toString()).not.toMatch(/would/);
    const yes = runCli(['check', '--policy', windowed, '--at', '2026-12-02T02:30', '--', PULL]);
    expect(yes.stdout.toString()).toMatch(/^would run: .* --server --sender/m);
  });
});

describe('policy', () => {
  it('validate reports each file; schema is JSON Schema', () => {
    const bad = writePolicy(dir, { access: 'nope' } as never, 'bad.json');
    const v = runCli(['policy', 'validate', pol, bad]);
    expect(v.status).toBe(78);
    expect(v.stdout.toString()).toMatch(/^ok {4}.*p\.yaml[\s\S]*^fail .*bad\.json/m);
    const schema = JSON.parse(runCli(['policy', 'schema']).stdout.toString());
    expect(schema.properties.access.enum).toEqual(['read-only', 'write-only', 'read-write']);
    expect(runCli(['policy', 'options']).stdout.toString()).toMatch(/--log-file\s+path\s+refused/);
  });
});

describe('check as an admin runs it', () => {
  it('takes a policy path relative to the working directory, and reports a missing rsync as the gate would (78)', () => {
    const rel = spawnSync(NODE, [join(REPO, 'dist', 'gatekeeper.mjs'), 'check', '--policy', 'p.yaml', '--', PULL], { cwd: dir, encoding: 'utf8' });
    expect(rel.status, rel.stderr).toBe(0);
    const missing = writePolicy(dir, { rsync: join(dir, 'no-such-rsync'), log }, 'missing.yaml');
    const r = runCli(['check', '--policy', missing, '--', PULL]);
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/configuration error: the policy's rsync .*no-such-rsync does not exist \(the command itself would be allowed/);
    expect(JSON.parse(runCli(['check', '--json', '--policy', missing, '--', PULL]).stdout.toString())).toMatchObject({ decision: 'error' });
  });
});
