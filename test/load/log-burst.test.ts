// 500 gates started at once, all appending to one log file: every one leaves
// exactly one complete, parseable record; none is torn or interleaved with
// another. Records vary in length up to ~8 KiB (long commands), so a writer
// that split a record over several write() calls would show it here.
// `npm run load` raises the count with GK_LOAD_GATES.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseRecordLine } from '../../src/log/record.js';
import { makeLab, type GateRun, type Lab } from '../security/lab.js';

const GATES = Number(process.env.GK_LOAD_GATES ?? 500);

let lab: Lab;
beforeAll(() => {
  lab = makeLab('gk-load-burst-');
});
afterAll(() => lab?.cleanup());

/** Gate i's command: mostly refusals, every tenth allowed (its record is written right before execve). */
function commandFor(i: number): { command: string; allowed: boolean } {
  const pad = 'p'.repeat((i * 37) % 8000);
  if (i % 10 === 0) return { command: `rsync --server --sender -vlogDtpre.iLsf . data/n${i}-${pad}`, allowed: true };
  return { command: `rsync --server --sender -vlogDtpre.iLsf --rsh=sh . data/n${i}-${pad}`, allowed: false };
}

describe(`${GATES} gates started at once on one log file`, () => {
  it('leave one complete record each, none torn', { timeout: 60_000 + GATES * 250 }, async () => {
    const runs: Promise<GateRun>[] = [];
    for (let i = 0; i < GATES; i++) runs.push(lab.run({ command: commandFor(i).command }));
    const results = await Promise.all(runs);

    results.forEach((r, i) => expect(r.code, `gate ${i}: ${r.stderr}`).toBe(commandFor(i).allowed ? 0 : 77));

    const text = readFileSync(lab.log, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines).toHaveLength(GATES);
    const records = lines.map((l, k) => {
      const r = parseRecordLine(l);
      expect(r, `line ${k} is not a complete record: ${l.slice(0, 200)}`).not.toBeNull();
      return r!;
    });
    // Each gate's own record, exactly once, with its whole command.
    const byCommand = new Map(records.map((r) => [r.command, r]));
    expect(byCommand.size).toBe(GATES);
    for (let i = 0; i < GATES; i++) {
      const { command, allowed } = commandFor(i);
      expect(byCommand.get(command)?.event, command.slice(0, 80)).toBe(allowed ? 'allow' : 'deny');
    }
    expect(new Set(records.map((r) => r.session)).size).toBe(GATES);
  });
});
