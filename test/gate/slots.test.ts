// maxConnections slots against real processes: live holders count, dead
// ones (exited, killed -9, zombies) free their slot without any cleanup.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { claimSlot, liveHolders, processStart, releaseSlot } from '../../src/gate/slots.js';
import { tempDir } from '../helpers/policy.js';

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

  it('a holder killed with -9 frees its slot, even before it is reaped (zombie)', async () => {
    const dir = join(tempDir(), 'slots');
    const a = sleeper();
    expect(claimSlot(dir, 1, a.pid!)).toBe(0);
    expect(claimSlot(dir, 1, process.pid)).toBeNull();
    // Stop Node from reaping it, so the pid stays a zombie for a moment.
    a.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 50));
    expect(processStart(a.pid!)).toBeNull();
    expect(claimSlot(dir, 1, process.pid)).toBe(0);
    rmSync(dir, { recursive: true });
  });
});
