// Start-up latency: run each case as its own process, many rounds, the cases
// interleaved within a round (in a rotating order), so that whatever else the
// machine does at a given moment is shared fairly among them.
import { spawnSync } from 'node:child_process';
import { nowMs, summarize } from './stats.mjs';

/**
 * @typedef {{ id: string, label: string, argv: string[], env: Record<string,string>, expect: (status: number) => boolean }} Case
 */

/** Run one case once; returns wall milliseconds, or throws with its stderr when its status is unexpected. */
export function timeOnce(c) {
  const t0 = nowMs();
  const r = spawnSync(c.argv[0], c.argv.slice(1), { env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = nowMs() - t0;
  if (r.error) throw new Error(`${c.label}: ${r.error.message}`);
  if (!c.expect(r.status ?? -1)) {
    throw new Error(`${c.label}: unexpected exit ${r.status ?? r.signal}\n${r.stderr}${r.stdout}`);
  }
  if (r.stdout.length > 0) throw new Error(`${c.label}: wrote ${r.stdout.length} bytes to stdout (the rsync protocol channel)`);
  return ms;
}

/** Interleaved rounds; the first `warmup` rounds fill caches and are not counted. */
export function measureLatency(cases, { rounds, warmup = 3, onRound = () => {} }) {
  const samples = new Map(cases.map((c) => [c.id, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + round) % cases.length];
      const ms = timeOnce(c);
      if (round >= warmup) samples.get(c.id).push(ms);
    }
    if (round >= warmup) onRound(round - warmup + 1);
  }
  return Object.fromEntries(cases.map((c) => [c.id, { label: c.label, ...summarize(samples.get(c.id)) }]));
}

/**
 * Peak resident set (KiB) of a case as the kernel reports it in wait4's
 * rusage (via /usr/bin/time). Linux keeps the maximum across execve, so for
 * the gate it covers Node's start-up before it becomes the target.
 */
export function peakRssKiB(c, reps) {
  const values = [];
  for (let i = 0; i < reps; i++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', ...c.argv], { env: c.env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw new Error(`/usr/bin/time: ${r.error.message}`);
    const lines = String(r.stderr).trim().split('\n');
    const kib = Number(lines[lines.length - 1]);
    if (!Number.isFinite(kib) || !c.expect(r.status ?? -1)) throw new Error(`${c.label} under /usr/bin/time: exit ${r.status}\n${r.stderr}`);
    values.push(kib);
  }
  return summarize(values);
}
