// What is resident on the server while a transfer runs: every process below
// the private sshd (its per-connection sshd processes, and whatever the
// forced command left running), sampled from /proc.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function readStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    return { pid, comm: program(pid) ?? stat.slice(stat.indexOf('(') + 1, close), ppid };
  } catch {
    return null; // gone meanwhile
  }
}

/** The executable's base name: Node 24 renames its main thread ("MainThread"), the exe link says what runs. */
function program(pid) {
  try {
    return readlinkSync(`/proc/${pid}/exe`).split('/').pop().replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

function vmRssKiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Descendants of `root` (not root itself): [{pid, comm, ppid, rssKiB}]. */
export function descendants(root) {
  const all = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const children = new Map();
  for (const s of all) {
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(s);
  }
  const out = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const s = stack.pop();
    out.push({ ...s, rssKiB: vmRssKiB(s.pid) });
    stack.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

/**
 * Sample the process tree below `root` every `everyMs` until stop() is
 * called. Only samples taken while the transfer runs count (an rsync process
 * is there): the gate's own start-up, before it becomes or starts rsync, is
 * what the peak-RSS figures cover. Returns, per program, the largest count of
 * processes seen at once and the largest resident set (KiB) of one of them
 * and of all together.
 */
export function sampleTree(root, everyMs = 100) {
  const peak = new Map();
  let samples = 0;
  const tick = () => {
    const procs = descendants(root);
    if (!procs.some((p) => p.comm === 'rsync')) return;
    samples++;
    const byComm = new Map();
    for (const p of procs) {
      const e = byComm.get(p.comm) ?? { count: 0, maxKiB: 0, sumKiB: 0 };
      e.count++;
      e.maxKiB = Math.max(e.maxKiB, p.rssKiB);
      e.sumKiB += p.rssKiB;
      byComm.set(p.comm, e);
    }
    for (const [comm, e] of byComm) {
      const p = peak.get(comm) ?? { count: 0, maxKiB: 0, sumKiB: 0 };
      peak.set(comm, { count: Math.max(p.count, e.count), maxKiB: Math.max(p.maxKiB, e.maxKiB), sumKiB: Math.max(p.sumKiB, e.sumKiB) });
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return { samples, byComm: Object.fromEntries([...peak].sort()) };
    },
  };
}
