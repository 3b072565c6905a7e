// log: syslog — the gate's record through logger(1) to a unix datagram socket
// (a python3 listener stands in for /dev/log), and back through audit.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writePolicy } from '../helpers/policy.js';
import { loggerArgs, loggerFailure, sendToSyslog, LOGGER } from '../../src/log/syslog.js';
import { audit, line, runGate } from './helpers.js';

const dir = tempDir('gk-audit-syslog-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const PYTHON = '/usr/bin/python3';

/** Receive `count` datagrams on a fresh socket, printed one per line. */
function listen(socket: string, count: number): { ready: Promise<void>; messages: Promise<string[]> } {
  const script = join(dir, 'listen.py');
  writeFileSync(
    script,
    `import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("ready", flush=True)
for _ in range(int(sys.argv[2])):
    print(s.recv(1 << 20).decode().replace("\\n", "\\\\n"), flush=True)
`,
  );
  const p = spawn(PYTHON, [script, socket, String(count)]);
  let out = '';
  let readyResolve: () => void;
  const ready = new Promise<void>((r) => (readyResolve = r));
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) readyResolve();
  });
  const messages = new Promise<string[]>((resolve) => p.on('exit', () => resolve(out.split('\n').slice(1).filter(Boolean))));
  return { ready, messages };
}

describe('sendToSyslog', () => {
  it('sends the record with identifier gatekeeper and the given pid; audit reads it back', async () => {
    const socket = join(dir, 'log.sock');
    const l = listen(socket, 2);
    await l.ready;
    const record = line({ time: '2026-11-26T10:00:00.000Z', session: 'via-syslog', command: 'rsync --server --sender -e.LsfxC "odd $(words)" . /' });
    const long = line({ time: '2026-11-26T10:00:01.000Z', session: 'long', reason: 'x'.repeat(5000) });
    sendToSyslog(record + '\n', { socket, pid: 4242 });
    sendToSyslog(long, { socket, pid: 4243 });
    const [first, second] = await l.messages;
    expect(first).toMatch(/^<38>.* gatekeeper\[4242\]: /); // auth.info = 4*8+6
    expect(first!.endsWith(record)).toBe(true);
    expect(second!.endsWith(long)).toBe(true); // not cut at logger's 1 KiB default
    // what rsyslog would write to a file, read by audit
    const r = audit(['--log', '-', '--json'], { input: `${first}\n${second}\n` });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${record}\n${long}\n`);
  });

  it('throws when the socket is not there (the gate then refuses: every session must be logged)', () => {
    expect(() => sendToSyslog(line({ time: '2026-11-26T10:00:00.000Z' }), { socket: join(dir, 'missing.sock') })).toThrow(/^\/usr\/bin\/logger failed \(status 1\): logger: socket .*missing\.sock: No such file or directory$/);
  });

  // logger gives up on a missing socket before it reads its input; whether
  // the record was still written into the pipe by then is a race, which once
  // made the call above fail with "cannot run /usr/bin/logger: spawnSync
  // /usr/bin/logger EPIPE". Both outcomes of that race, as spawnSync reports them:
  const stderr = Buffer.from('logger: socket /dev/log: No such file or directory\n');
  const epipe = Object.assign(new Error('spawnSync /usr/bin/logger EPIPE'), { code: 'EPIPE' });
  it.each([
    ['the record written before logger exited', { error: undefined, status: 1, signal: null, stderr }, '/usr/bin/logger failed (status 1): logger: socket /dev/log: No such file or directory'],
    ['logger exited before the record was written (EPIPE)', { error: epipe, status: 1, signal: null, stderr }, '/usr/bin/logger failed (status 1): logger: socket /dev/log: No such file or directory'],
    ['killed (the 5 s timeout)', { error: Object.assign(new Error('spawnSync /usr/bin/logger ETIMEDOUT'), { code: 'ETIMEDOUT' }), status: null, signal: 'SIGTERM' as const, stderr: Buffer.from('') }, '/usr/bin/logger failed (signal SIGTERM): '],
    ['status 0 but the record not all read', { error: epipe, status: 0, signal: null, stderr: Buffer.from('') }, '/usr/bin/logger exited before reading the whole record (spawnSync /usr/bin/logger EPIPE)'],
    ['never started', { error: Object.assign(new Error('spawnSync /usr/bin/logger ENOENT'), { code: 'ENOENT' }), status: null, signal: null, stderr: Buffer.from('') }, 'cannot run /usr/bin/logger: spawnSync /usr/bin/logger ENOENT'],
    ['handed over', { error: undefined, status: 0, signal: null, stderr: Buffer.from('') }, null],
  ])('a logger run: %s', (_name, r, message) => {
    expect(loggerFailure(r)).toBe(message);
  });

  it('the real gate with log: syslog and no syslog socket refuses (78) rather than run unlogged', () => {
    const policies = join(dir, 'policies');
    mkdirSync(policies, { mode: 0o700 });
    // Its own missing socket, not /dev/log: this machine may run a system logger.
    writePolicy(policies, { root: dir, log: 'syslog', syslogSocket: join(dir, 'no-logger.sock') }, 'sys.json');
    const r = runGate(policies, 'sys', 'rsync --server --sender -logDtpre.iLsfxCIvu . /');
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/gatekeeper: .*logger failed/);
    expect(r.stdout).toBe('');
  });

  it('refuses a multi-line message rather than sending broken halves', () => {
    expect(() => sendToSyslog('{"a":1}\n{"b":2}', { socket: join(dir, 'missing.sock') })).toThrow(/single line/);
  });

  it('passes the record on stdin, never as an argument (no byte of it can become an option)', () => {
    const args = loggerArgs({ socket: '/dev/log', pid: 1 });
    expect(args).toEqual(['--id=1', '-t', 'gatekeeper', '-p', 'auth.info', '--size', '65536', '--socket-errors=on', '-u', '/dev/log']);
    // and every option is one this logger understands (an unknown one would be a usage error, status 1 with "unrecognized")
    const r = spawnSync(LOGGER, loggerArgs({ socket: join(dir, 'missing.sock') }), { input: 'x\n', encoding: 'utf8' });
    expect(r.stderr).toMatch(/missing\.sock/);
    expect(r.stderr).not.toMatch(/unrecognized|invalid option/);
  });
});
