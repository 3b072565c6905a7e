// The spawn fallback (Node without process.execve, here the system's Node
// 20): the gate stays as rsync's parent, so the signals sshd sends when a
// session ends must reach rsync, and rsync's status must come back as the
// gate's exit status and as an "exit" record in the log. Real rsync as the
// target: a server waiting for the protocol on stdin, ended by the signal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEKEEPER, makeLab, SSH_CONNECTION, NODE20, type Lab } from './lab.js';
import { waitUntil } from '../helpers/wait.js';


/** Pids whose parent is `ppid` and whose command name is `comm`. */
function childrenOf(ppid: number, comm: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const c = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (Number(fields[1]) === ppid && c === comm) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

let lab: Lab;
beforeAll(() => {
  lab = makeLab('gk-sec-signals-');
  lab.writePolicy('real', { rsync: '/usr/bin/rsync', access: 'read-only', root: lab.root });
});
afterAll(() => lab?.cleanup());

describe('signals in the spawn fallback reach rsync, and its status is reported', () => {
  it.for(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)('%s', async (signal) => {
    const command = 'rsync --server --sender -vlogDtpre.iLsf . data/';
    const gate = spawn(NODE20, [GATEKEEPER, 'gate', '--policy', join(lab.policyDir, 'real.yaml')], {
      env: { SSH_ORIGINAL_COMMAND: command, SSH_CONNECTION, USER: 'root', PATH: '/usr/bin:/bin' },
      // stdin stays open: the rsync server waits on it for the protocol.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    gate.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    // rsync sets its signal handlers before it speaks: its first protocol bytes on stdout mean it is ready.
    let spoke = false;
    gate.stdout.on('data', () => (spoke = true));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => gate.on('close', (code, sig) => resolve({ code, signal: sig })));

    let rsyncPids: number[] = [];
    await waitUntil(
      () => (rsyncPids = childrenOf(gate.pid!, 'rsync')).length > 0 && spoke,
      () => (gate.exitCode !== null || gate.signalCode !== null ? `the gate exited before rsync spoke; stderr: ${stderr}` : null),
    );
    expect(spoke, `rsync never spoke; stderr: ${stderr}`).toBe(true);
    expect(rsyncPids, `no rsync child appeared; stderr: ${stderr}`).toHaveLength(1);
    const rsyncPid = rsyncPids[0]!;

    gate.kill(signal);
    const { code } = await exited;
    gate.stdin.destroy();

    // rsync's own status for "received SIGINT, SIGTERM, or SIGHUP" is 20.
    expect(code, stderr).toBe(20);
    expect(stderr).toMatch(/rsync error: received SIGINT, SIGTERM, or SIGHUP \(code 20\)/);
    expect(existsSync(`/proc/${rsyncPid}`) && !readFileSync(`/proc/${rsyncPid}/stat`, 'utf8').includes(') Z ')).toBe(false);

    const records = lab.records().filter((r) => r.pid === gate.pid);
    expect(records.map((r) => r.event)).toEqual(['allow', 'exit']);
    expect(records[0]!.exec).toBe('spawn');
    expect(records[1]).toMatchObject({ event: 'exit', status: 20, reason: 'rsync exited with status 20', exec: 'spawn' });
    expect(records[1]!.session).toBe(records[0]!.session);
  });
});
