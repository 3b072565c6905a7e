// The bench's table and its verdict on the issue's aims (ratios within one
// run on one machine, so they compare like with like).

const out = (line = '') => process.stdout.write(`${line}\n`);
const pad = (s, n) => String(s).padEnd(n);
const num = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? '-' : Number(x).toFixed(d)).padStart(8);

/** One verdict per aim and node: { aim, node, value, limit, met }. */
export function judgeAims(r) {
  const aims = [];
  const add = (node, aim, value, limit, met, note) => aims.push({ node, aim, value, limit, met, ...(note ? { note } : {}) });
  for (const n of r.nodes) {
    const q = (k) => r.ratios[`${n.id}.${k}`];
    if (q('gate/rrsync') !== undefined) add(n.id, 'gate latency <= 0.9 x rrsync', q('gate/rrsync'), 0.9, q('gate/rrsync') <= 0.9);
    add(n.id, 'gate latency <= 1.25 x bare node', q('gate/bare'), 1.25, q('gate/bare') <= 1.25);
    if (r.endToEnd) {
      const floor = (k) => `a bare node start, then the fixed command: ${q(k)}`;
      add(n.id, 'no-op resync <= 1.05 x fixed command', q('noop/fixed'), 1.05, q('noop/fixed') <= 1.05, floor('noop-floor/fixed'));
      add(n.id, 'full pull throughput >= 0.99 x fixed command', q('full-throughput/fixed'), 0.99, q('full-throughput/fixed') >= 0.99, floor('full-floor/fixed'));
      const resident = r.endToEnd.full[`gate-${n.id}`].resident ?? {};
      const node = resident.node;
      if (n.exec === 'execve') add(n.id, 'nothing of node resident during a transfer', node ? `${node.maxKiB} KiB` : 'none', 'none', !node);
      else add(n.id, 'spawn fallback: node parent resident during a transfer (informational)', node ? `${node.maxKiB} KiB` : 'none', '-', null, 'no process.execve on this node');
    }
  }
  // The self-contained executable (issue 11's aims), against the same Node version's launcher and bare start.
  const q = (k) => r.ratios[k];
  if (q('exe.gate/launcher') !== undefined) {
    add('exe', 'gate latency <= 0.95 x the launcher (same Node)', q('exe.gate/launcher'), 0.95, q('exe.gate/launcher') <= 0.95);
    add('exe', 'gate latency <= 1.10 x bare node -e 0 (same Node)', q('exe.gate/bare'), 1.1, q('exe.gate/bare') <= 1.1);
    if (q('exe.noop/floor') !== undefined) add('exe', 'no-op resync <= 1.03 x the floor (bare node, then fixed)', q('exe.noop/floor'), 1.03, q('exe.noop/floor') <= 1.03);
    if (q('exe.gate/rrsync') !== undefined) add('exe', 'gate latency / rrsync (a figure, not an aim)', q('exe.gate/rrsync'), '-', null);
  }
  return aims;
}

export function printReport(r) {
  out();
  out(`gatekeeper bench — ${r.machine.cpus} CPU (${r.machine.model}), ${r.machine.memMiB} MiB; ${r.nodes.map((n) => `${n.id}=${n.version} (${n.exec})`).join(', ')}${r.quick ? '; QUICK' : ''}`);
  out(`load average (1 min) at start ${r.loadavg.start[0]}, at end ${r.loadavg.end[0]}; ${r.seconds} s`);
  out();
  out(`Start-up latency, ms (${r.plan.latencyRounds} interleaved rounds; wall time from spawn to exit, target /bin/true)`);
  out(`${pad('case', 40)}  median      p90      min  peak RSS KiB`);
  for (const [id, s] of Object.entries(r.latency)) {
    out(`${pad(s.label, 40)}${num(s.median)} ${num(s.p90)} ${num(s.min)}  ${num(r.peakRssKiB[id]?.median, 0)}`);
  }
  out();
  out('Ratios (medians, same run)');
  for (const [k, v] of Object.entries(r.ratios)) out(`  ${pad(k, 38)}${num(v, 3)}`);
  if (r.endToEnd) {
    const e = r.endToEnd;
    out();
    out(`End to end through a private sshd: no-op resync of ${e.smallFiles} unchanged files, ms`);
    for (const s of Object.values(e.noop)) out(`  ${pad(s.label, 38)}${num(s.median)} ${num(s.p90)} (n=${s.n})`);
    out(`Full pull of ${(e.largeBytes / 1048576).toFixed(0)} MiB, MiB/s (higher is better)`);
    for (const s of Object.values(e.full)) out(`  ${pad(s.label, 38)}${num(s.mibPerSec.median)} ${num(s.mibPerSec.p90)} (n=${s.mibPerSec.n})`);
    out('Resident below sshd during the full pull (max per process, KiB)');
    for (const s of Object.values(e.full)) {
      const parts = Object.entries(s.resident ?? {}).map(([comm, p]) => `${comm}×${p.count} ${p.maxKiB}`);
      out(`  ${pad(s.label, 38)}${parts.join(', ')}`);
    }
  }
  out();
  out('Aims');
  for (const a of r.aims) {
    const verdict = a.met === null ? 'info' : a.met ? 'MET' : 'NOT MET';
    out(`  [${pad(verdict, 7)}] ${pad(a.node, 7)} ${pad(a.aim, 62)} ${a.value}${a.note ? ` (${a.note})` : ''}`);
  }
  out();
}
