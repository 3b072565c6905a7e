// Logs written by the real gate for the monitoring tests (--metrics, --check):
// a real rsync client whose "ssh" (-e) runs the gate as sshd would, with
// SSH_ORIGINAL_COMMAND set; the policy's transferLog is rsync's own
// --log-file, which audit joins for each run's end, status and bytes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseRecordLine } from '../../src/log/record.js';
import { writePolicy } from '../helpers/policy.js';
import { CLI, NODE, runGate } from './helpers.js';

export const GOOD = '192.0.2.20'; // backs up successfully
export const FAILING = '192.0.2.30'; // allowed, its run fails (rsync 23)
export const PROBER = '203.0.113.9'; // refused, three times
export const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';

export interface GateLogs {
  dir: string;
  policies: string;
  log: string;
  transferLog: string;
  /** Time (ms) of the GOOD client's allow record, of the last refusal, and the host the records name ('' when none). */
  goodAllowed: number;
  lastRefused: number;
  host: string;
  /** What the GOOD client's run sent, as rsync's own log line says. */
  goodSent: number;
}

function pull(dir: string, policies: string, client: string, source: string, dest: string): number | null {
  const rsh = join(dir, `rsh-${client}.mjs`);
  writeFileSync(
    rsh,
    `#!${NODE}
import { spawnSync } from 'node:child_process';
const args = process.argv.slice(2);
while (args[0] === '-l') args.splice(0, 2);
args.shift(); // host
const r = spawnSync(${JSON.stringify(NODE)}, [${JSON.stringify(CLI)}, 'gate', '--policy', 'backup', '--policy-dir', ${JSON.stringify(policies)}], {
  stdio: 'inherit',
  env: { PATH: '/usr/bin:/bin', USER: 'root', SSH_CONNECTION: '${client} 50001 192.0.2.1 22', SSH_ORIGINAL_COMMAND: args.join(' ') },
});
process.exit(r.status ?? 1);
`,
    { mode: 0o700 },
  );
  return spawnSync('/usr/bin/rsync', ['-a', '-e', rsh, `host:${source}`, `${dest}/`], { encoding: 'utf8' }).status;
}

/** Write the logs: one good pull, one failing pull, three refusals. */
export function writeGateLogs(dir: string): GateLogs {
  const policies = join(dir, 'policies');
  const data = join(dir, 'data');
  const log = join(dir, 'gatekeeper.log');
  const transferLog = join(dir, 'rsync-transfer.log');
  mkdirSync(policies, { mode: 0o700 });
  mkdirSync(join(data, 'sub'), { recursive: true });
  writeFileSync(join(data, 'a.txt'), 'hello\n');
  writeFileSync(join(data, 'sub', 'b.bin'), Buffer.alloc(50_000, 7));
  writePolicy(policies, { root: data, log, transferLog }, 'backup.yaml');

  expect(pull(dir, policies, GOOD, '/', join(dir, 'dest-good'))).toBe(0);
  // A source that does not exist: rsync runs, and ends with 23.
  expect(pull(dir, policies, FAILING, '/missing', join(dir, 'dest-failing'))).toBe(23);
  for (const command of ['cat /etc/shadow', `${PULL.replace(' . /', ' --log-file=/tmp/x . /')}`, 'cat /etc/shadow']) {
    expect(runGate(policies, 'backup', command, { client: PROBER }).status).toBe(77);
  }
  const records = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => parseRecordLine(l)!);
  const goodAllowed = Date.parse(records.find((r) => r.event === 'allow' && r.client?.addr === GOOD)!.time);
  const lastRefused = Date.parse(records.filter((r) => r.event === 'deny').at(-1)!.time);
  const sentLine = readFileSync(transferLog, 'utf8')
    .split('\n')
    .find((l) => / sent \d+ bytes/.test(l));
  const goodSent = Number(/ sent (\d+) bytes/.exec(sentLine!)![1]);
  return { dir, policies, log, transferLog, goodAllowed, lastRefused, host: records[0]!.hostname ?? '', goodSent };
}
