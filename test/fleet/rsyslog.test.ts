// A fleet's logs through the real daemons: two rsyslogd from Debian's
// package, one as a server's and one as the central collector, each with its
// own configuration, socket, port and work directory under a temp dir (no
// system file touched). The server's runs the shipped
// contrib/rsyslog/gatekeeper-forward.conf, the central one the shipped
// gatekeeper-central.conf, each with only its host, port and file swapped
// for the test's. Gates on two "hosts" (a UTS namespace each, with its own
// host name) log through the server's socket; the central file holds every
// record, also those sent while the central collector was stopped, and
// `gatekeeper audit` over it groups them by host.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../scripts/lib/sshd.mjs';
import { RecordLineSchema } from '../../src/log/record.js';
import { tempDir, writePolicy } from '../helpers/policy.js';
import { NODE, REPO } from '../helpers/gate.js';
import { audit, CLI, jsonLines } from '../audit/helpers.js';

const RSYSLOGD = '/usr/sbin/rsyslogd';
const UNSHARE = '/usr/bin/unshare';
const PULL_TRUE = 'true';
const PUSH = 'rsync --server -vlogDtprxze.iLsfxCIvu . /';
const CLIENT = '198.51.100.7';

const dir = tempDir('gk-fleet-');
const serverSocket = join(dir, 'server.sock');
const centralFile = join(dir, 'central', 'fleet.log');
const centralTraditional = join(dir, 'central', 'fleet-traditional.log');
const policies = join(dir, 'policies');
let port = 0;

interface Daemon {
  name: string;
  conf: string;
  proc: ChildProcess | null;
  output: string;
}
const daemons: Daemon[] = [];

/** Poll until `ok()` holds; generous, since the machine may be loaded. */
async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${daemons.map((d) => `--- ${d.name}:\n${d.output}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Whether process `pid` itself listens on 127.0.0.1:`p` (TCP): a connection
 * alone could reach another process that took the port between freePort()
 * and rsyslogd's bind (rsyslogd then logs the error and runs on, deaf).
 */
function listensOn(pid: number | undefined, p: number): boolean {
  if (pid === undefined) return false;
  const local = `0100007F:${p.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === local && f[3] === '0A') // 0A: LISTEN
    .map((f) => `socket:[${f[9]}]`);
  if (inodes.length === 0) return false;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      return inodes.includes(readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      return false;
    }
  });
}

function start(d: Daemon): void {
  const proc = spawn(RSYSLOGD, ['-n', '-f', d.conf, '-i', join(dir, `${d.name}.pid`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  d.proc = proc;
  const add = (b: Buffer) => (d.output += b.toString());
  proc.stdout!.on('data', add);
  proc.stderr!.on('data', add);
}

/** SIGTERM by pid, and wait until it has exited (rsyslogd then has saved its queues). */
async function stop(d: Daemon): Promise<void> {
  const proc = d.proc;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
  d.proc = null;
}

/** The gate as sshd runs it, in a UTS namespace of its own whose host name is `host`. */
function gateOn(host: string, command: string): number | null {
  // Set the namespace's host name, then become the gate (same process, no shell).
  const becomeGate =
    "require('node:fs').writeFileSync('/proc/sys/kernel/hostname', process.argv[1]);" +
    'process.execve(process.execPath, [process.execPath, ...process.argv.slice(2)], process.env);';
  const r = spawnSync(UNSHARE, ['--uts', '--', NODE, '-e', becomeGate, host, CLI, 'gate', '--policy', 'fleet', '--policy-dir', policies], {
    env: { PATH: '/usr/bin:/bin', USER: 'root', SSH_CONNECTION: `${CLIENT} 50000 192.0.2.1 22`, SSH_ORIGINAL_COMMAND: command },
    input: '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  // EPIPE beside an exit status is a race with the gate's exit, not a failure (its status says how it went).
  if (r.error && r.status === null && r.signal === null) throw r.error;
  if (r.stdout !== '') throw new Error(`the gate wrote to stdout: ${r.stdout}`);
  if (r.status !== 0 && r.status !== 77) throw new Error(`gate on ${host}: status ${r.status}: ${r.stderr}`);
  return r.status;
}

/** The gatekeeper records in a central file so far. */
function centralRecords(file = centralFile) {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.includes(' gatekeeper['))
    .map((l) => RecordLineSchema.parse(JSON.parse(l.slice(l.indexOf('{')))));
}

beforeAll(async () => {
  port = await freePort();
  for (const d of ['server-work', 'central-work', 'central']) mkdirSync(join(dir, d));
  mkdirSync(policies, { mode: 0o700 });
  writePolicy(policies, { root: dir, log: 'syslog', syslogSocket: serverSocket }, 'fleet.json');

  // The shipped snippets, with the test's host, port and file.
  const shipped = (name: string) => readFileSync(join(REPO, 'contrib', 'rsyslog', name), 'utf8');
  const swap = (text: string, from: string, to: string) => {
    if (!text.includes(from)) throw new Error(`the shipped snippet no longer has ${from}`);
    return text.replaceAll(from, to);
  };
  let forward = shipped('gatekeeper-forward.conf');
  forward = swap(forward, 'Target="logs.example.org"', 'Target="127.0.0.1"');
  forward = swap(forward, 'Port="514"', `Port="${port}"`);
  let central = shipped('gatekeeper-central.conf');
  central = swap(central, 'port="514"', `port="${port}" address="127.0.0.1"`);
  central = swap(central, '/var/log/gatekeeper/fleet.log', centralFile);
  // A second file in rsyslog's default (traditional) format, to read it as well.
  central = swap(central, '  stop\n}', `  if $programname == "gatekeeper" then action(type="omfile" file="${centralTraditional}" template="RSYSLOG_TraditionalFileFormat")\n  stop\n}`);
  writeFileSync(join(dir, 'gatekeeper-forward.conf'), forward);
  writeFileSync(join(dir, 'gatekeeper-central.conf'), central);

  const serverConf = join(dir, 'server.conf');
  writeFileSync(
    serverConf,
    [
      `global(workDirectory="${join(dir, 'server-work')}")`,
      // Its own socket instead of /dev/log; no rate limit for the burst of gates.
      'module(load="imuxsock" SysSock.Use="off")',
      `input(type="imuxsock" Socket="${serverSocket}" RateLimit.Interval="0")`,
      `include(file="${join(dir, 'gatekeeper-forward.conf')}")`,
      '',
    ].join('\n'),
  );
  const centralConf = join(dir, 'central.conf');
  writeFileSync(centralConf, [`global(workDirectory="${join(dir, 'central-work')}")`, `include(file="${join(dir, 'gatekeeper-central.conf')}")`, ''].join('\n'));
  for (const conf of [serverConf, centralConf]) {
    const check = spawnSync(RSYSLOGD, ['-N1', '-f', conf], { encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
  }
  daemons.push({ name: 'server', conf: serverConf, proc: null, output: '' }, { name: 'central', conf: centralConf, proc: null, output: '' });
  start(daemons[1]!);
  await waitFor('the central collector to listen', () => listensOn(daemons[1]!.proc?.pid, port));
  start(daemons[0]!);
  await waitFor("the server's socket", () => existsSync(serverSocket));
}, 240_000);

afterAll(async () => {
  for (const d of daemons) await stop(d);
  spawnSync('/usr/bin/rm', ['-rf', dir]);
}, 120_000);

describe('two hosts, a server rsyslogd and a central one', () => {
  it('the central file holds every record, also those sent while the collector was stopped; audit groups them by host', async () => {
    // Both hosts, collector up: an allowed connectivity check and a refused push each.
    for (const host of ['host-a', 'host-b']) {
      expect(gateOn(host, PULL_TRUE)).toBe(0);
      expect(gateOn(host, PUSH)).toBe(77);
    }
    await waitFor('4 records in the central file', () => centralRecords().length >= 4);

    // The collector stops; the gates go on logging; the server keeps their records queued.
    await stop(daemons[1]!);
    for (let i = 0; i < 3; i++) {
      expect(gateOn('host-a', PULL_TRUE)).toBe(0);
      expect(gateOn('host-b', PUSH)).toBe(77);
    }
    start(daemons[1]!);
    await waitFor('the central collector to listen again', () => listensOn(daemons[1]!.proc?.pid, port));
    await waitFor('all 10 records in the central file', () => centralRecords().length >= 10);
    await waitFor('all 10 in the traditional-format file', () => centralRecords(centralTraditional).length >= 10);

    const records = centralRecords();
    expect(records).toHaveLength(10);
    expect(new Set(records.map((r) => r.session)).size).toBe(10);
    const count = (host: string, event: string) => records.filter((r) => r.hostname === host && r.event === event).length;
    expect([count('host-a', 'allow'), count('host-a', 'deny'), count('host-b', 'allow'), count('host-b', 'deny')]).toEqual([4, 1, 1, 4]);

    // audit over the collector's files, in both timestamp formats.
    for (const file of [centralFile, centralTraditional]) {
      const summary = audit(['--log', file, '--summary', '--json']);
      expect(summary.status, summary.stderr).toBe(0);
      expect(summary.stderr).toBe('');
      expect(jsonLines(summary.stdout).map((g) => [g.host, g.policy, g.client, g.allowed, g.refused])).toEqual([
        ['host-a', 'fleet', CLIENT, 4, 1],
        ['host-b', 'fleet', CLIENT, 1, 4],
      ]);
      const table = audit(['--log', file]).stdout.trimEnd().split('\n');
      expect(table[0]).toMatch(/^TIME\s+HOST\s+POLICY/);
      expect(table).toHaveLength(11);
      const onlyB = jsonLines(audit(['--log', file, '--json', '--host', 'host-[b]']).stdout);
      expect(onlyB).toHaveLength(5);
      expect(new Set(onlyB.map((r) => r.hostname))).toEqual(new Set(['host-b']));
    }
  }, 600_000);
});
