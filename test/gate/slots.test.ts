// maxConnections slots against real processes: live holders count, dead
// ones (exited, killed -9, zombies) free their slot without any cleanup.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { claimSlot, liveHolders, processStart, releaseSlot } from '../../src/gate/slots.js';
import { tempDir } from '../helpers/policy.js';
import { waitUntil } from '../helpers/wait.js';

const children: ChildProcess[] = [];
const sleeper = () => {
  const c = spawn('/bin/sleep', ['30'], { stdio: 'ignore' });
  children.push(c);
  return c;
};
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe('slots', () => {
  it('admits up to N live holders, then refuses', () => {
    const dir = join(tempDir(), 'slots');
    const a = sleeper();
    const b = sleeper();
    expect(claimSlot(dir, 2, a.pid!)).toBe(0);
    expect(claimSlot(dir, 2, b.pid!)).toBe(1);
    expect(claimSlot(dir, 2, process.pid)).toBeNull();
    expect(liveHolders(dir, 2).map((h) => h.pid)).toEqual([a.pid, b.pid]);
    releaseSlot(dir, 1, b.pid!);
    expect(claimSlot(dir, 2, process.pid)).toBe(1);
    rmSync(dir, { recursive: true });
  });

  it('a holder killed with -9 frees its slot at once', async () => {
    const dir = join(tempDir(), 'slots');
    const a = sleeper();
    expect(claimSlot(dir, 1, a.pid!)).toBe(0);
    expect(claimSlot(dir, 1, process.pid)).toBeNull();
    await new Promise((r) => {
      a.on('exit', r);
      a.kill('SIGKILL');
    });
    expect(processStart(a.pid!)).toBeNull();
    expect(claimSlot(dir, 1, process.pid)).toBe(0);
    rmSync(dir, { recursive: true });
  });

  it('a holder killed with -9 frees its slot while it is still a zombie (its parent has not reaped it)', async () => {
    const dir = join(tempDir(), 'slots');
    // A parent that forks a child and never waits for it: once killed, the
    // child stays a zombie until the parent exits (as a gate's process does
    // until sshd reaps it).
    const parent = spawn('/usr/bin/python3', ['-c', 'import os, sys, time\npid = os.fork()\nif pid == 0:\n    time.sleep(300)\n    os._exit(0)\nprint(pid, flush=True)\ntime.sleep(300)\n'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(parent);
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      parent.stdout!.setEncoding('utf8').on('data', (s: string) => {
        out += s;
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      parent.on('exit', (code) => reject(new Error(`the parent exited (${code}) before naming its child`)));
    });
    expect(claimSlot(dir, 1, pid)).toBe(0);
    expect(claimSlot(dir, 1, process.pid)).toBeNull();
    process.kill(pid, 'SIGKILL');
    const state = () => {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    };
    // SIGKILL is delivered asynchronously: wait for the state, however long that takes.
    await waitUntil(() => state() === 'Z');
    expect(processStart(pid)).toBeNull();
    expect(claimSlot(dir, 1, process.pid)).toBe(0);
    expect(state(), 'still a zombie while its slot was claimed').toBe('Z');
    rmSync(dir, { recursive: true });
  });
});
