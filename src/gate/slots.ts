// maxConnections: N slot files per policy under the state directory, each
// naming the pid (and its start time) that holds it.
//
// Why not a lock: Node opens every file close-on-exec, so a lock the gate
// takes would vanish at execve. A slot instead names its holder; a holder is
// alive while /proc/PID/stat shows the same start time (pid reuse cannot
// fake it). With execve rsync keeps the gate's pid, so the slot stays held
// exactly as long as the transfer runs, and a session killed with -9 frees
// its slot by dying: nothing stale to clean up by hand.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomHex } from './random.js';

export interface SlotHolder {
  pid: number;
  start: string;
}

/** Start time of a process (field 22 of /proc/PID/stat), or null when it is gone. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: skip past its last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (killed, not yet reaped by sshd) holds nothing: its slot is free.
    if (fields[0] === 'Z' || fields[0] === 'X') return null;
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

const alive = (h: SlotHolder | null) => h !== null && processStart(h.pid) === h.start;

function parseHolder(text: string): SlotHolder | null {
  const [pid, start] = text.trim().split(' ');
  const n = Number(pid);
  return Number.isInteger(n) && n > 0 && start ? { pid: n, start } : null;
}

function readHolder(path: string): SlotHolder | null {
  try {
    return parseHolder(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Claim one of `max` slots for `pid`. Returns the slot index, or null when
 * all are held by live sessions.
 */
export function claimSlot(dir: string, max: number, pid: number): number | null {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const start = processStart(pid);
  if (start === null) throw new Error(`cannot read /proc/${pid}/stat: maxConnections needs /proc`);
  const mine = `${dir}/.claim-${pid}-${randomHex(4)}`;
  writeFileSync(mine, `${pid} ${start}\n`, { mode: 0o600 });
  try {
    for (let i = 0; i < max; i++) {
      const slot = `${dir}/slot-${i}`;
      // Two attempts: the second after clearing a dead holder.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          linkSync(mine, slot); // atomic: fails if the slot exists
          return i;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        if (!clearIfDead(slot, dir)) break;
      }
    }
    return null;
  } finally {
    unlinkSync(mine);
  }
}

/**
 * Remove a slot whose holder is dead. The slot is first renamed to a private
 * name, so two gates clearing the same slot cannot both succeed. What was
 * moved is the dead holder, or a live claim that replaced it between our read
 * and the rename (another gate cleared it first); only liveness tells them
 * apart: an inode number cannot, since a freed number is reused at once. A
 * live claim moved by mistake is put back. (Comparing inodes let a second
 * gate move and delete a fresh live claim: N+1 sessions under load.)
 */
function clearIfDead(slot: string, dir: string): boolean {
  if (alive(readHolder(slot))) return false;
  const grave = `${dir}/.dead-${process.pid}-${randomHex(4)}`;
  try {
    renameSync(slot, grave);
  } catch {
    return true; // someone else moved it first
  }
  if (alive(readHolder(grave))) {
    try {
      linkSync(grave, slot);
    } catch {
      /* the slot was claimed again meanwhile; the live claim we moved keeps running */
    }
    unlinkSync(grave);
    return false;
  }
  unlinkSync(grave);
  return true;
}

/** Free a slot this process holds (the spawn fallback, when rsync ends). */
export function releaseSlot(dir: string, index: number, pid: number): void {
  const slot = `${dir}/slot-${index}`;
  const holder = readHolder(slot);
  if (holder?.pid === pid) {
    try {
      unlinkSync(slot);
    } catch {
      /* gone already */
    }
  }
}

/** The live holders of a policy's slots (doctor and tests). */
export function liveHolders(dir: string, max: number): SlotHolder[] {
  const out: SlotHolder[] = [];
  for (let i = 0; i < max; i++) {
    const h = readHolder(`${dir}/slot-${i}`);
    if (h && alive(h)) out.push(h);
  }
  return out;
}
