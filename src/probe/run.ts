// `gatekeeper probe`'s runner: parse, probe, print.
import { parseTarget, probe } from './probe.js';
import type { ProbeCliOptions } from './command.js';

export function runProbe(targetText: string, o: ProbeCliOptions): number {
  const target = parseTarget(targetText);
  if (!target) {
    process.stderr.write(`gatekeeper: probe: ${JSON.stringify(targetText)} is not USER@SERVER[:PATH] or USER@SERVER::MODULE\n`);
    return 64;
  }
  const r = probe({ shell: o.e, target, push: o.push === true, rsync: o.rsync });
  if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else for (const s of r.steps) process.stdout.write(`${s.ok ? 'ok  ' : 'FAIL'} ${s.step}: ${s.line}\n`);
  return r.code;
}
