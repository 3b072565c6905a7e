// `npm run bench`: what the gate costs on every backup connection, side by
// side with bare node, rrsync and the original setup's fixed forced command,
// all in one run on this machine. Prints a table and writes
// bench-results/bench.json (compare it between commits).
//
//   node scripts/bench.mjs [--quick] [--no-e2e] [--out FILE]
//
// Must run as root (the end-to-end part starts a private sshd that logs in
// as root with a forced command, as the product is deployed).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { makePrivateDir, missingPrerequisites, startSshd, REPO } from './lib/sshd.mjs';
import { measureLatency, peakRssKiB } from './bench/latency.mjs';
import { noopResync, fullPull, fixedLine, floorLine, gateLine, SERVER_COMMAND } from './bench/e2e.mjs';
import { buildLarge, buildManySmall } from './bench/trees.mjs';
import { buildBundle, nodeVersion, rrsyncToTrue, sshdLikeEnv, writeLauncher, writePolicies } from './bench/setup.mjs';
import { printReport, judgeAims } from './bench/report.mjs';
import { ratio } from './bench/stats.mjs';
import { buildExecutables } from './lib/executable.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const e2e = !argv.includes('--no-e2e');
const outAt = argv.indexOf('--out');
const outFile = outAt >= 0 ? argv[outAt + 1] : join(REPO, 'bench-results', quick ? 'bench-quick.json' : 'bench.json');

const PLAN = quick
  ? { latencyRounds: 15, rssReps: 3, smallFiles: 2000, noopReps: 4, largeMiB: 48, fullReps: 1 }
  : { latencyRounds: 100, rssReps: 7, smallFiles: 2000, noopReps: 20, largeMiB: 304, fullReps: 7 };

const NODE24 = process.execPath; // npm scripts put the devDependency node (24) first on PATH
const NODE20 = '/usr/bin/node';
const log = (msg) => process.stderr.write(`${msg}\n`);

const problems = missingPrerequisites();
if (problems) {
  log(`bench: ${problems.join('; ')}`);
  process.exit(1);
}

const started = Date.now();
const loadAtStart = loadavg().map((x) => Math.round(x * 100) / 100);
const work = makePrivateDir('gk-bench-');
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => process.exit(130));

const lib = buildBundle(join(work, 'dist'));
const logFile = join(work, 'log', 'gatekeeper.log');
const stateDir = join(work, 'state');
mkdirSync(join(work, 'log'), { mode: 0o700 });
mkdirSync(stateDir, { mode: 0o700 });

const nodes = [{ id: 'node24', bin: NODE24 }, { id: 'node20', bin: NODE20 }]
  .map((n) => ({ ...n, ...nodeVersion(n.bin) }))
  .filter((n, i, all) => n.version && all.findIndex((m) => m.version === n.version) === i)
  // What install deploys and sshd runs: the launcher, one per node.
  .map((n) => ({ ...n, launcher: writeLauncher(join(work, `gatekeeper-${n.id}`), n.bin, lib) }));
// The self-contained executable, built from this run's bundle with the Node 24 that npm ci installs.
log('bench: building the executable...');
const exeWork = mkdtempSync(join(work, 'exe-'));
const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;
const [exeBuilt] = await buildExecutables({ root: REPO, dist: lib, out: work, work: exeWork, version, archs: ['x64'] });
const executable = { id: 'exe', bin: exeBuilt.file, version: exeBuilt.node, of: nodes.find((n) => n.version === exeBuilt.node)?.id };
const rrsync = rrsyncToTrue(work);
const policies = writePolicies(join(work, 'policies'), 'system-backup', { rsync: '/bin/true', root: '/', log: logFile, stateDir });
// The same JSON policy with a backup window that holds every minute: what
// the window costs (time-zone machinery, reading the clock in a zone).
const windowPolicy = join(work, 'policies', 'system-backup-window.json');
writeFileSync(windowPolicy, `${JSON.stringify({ ...JSON.parse(readFileSync(policies.json, 'utf8')), window: ['00:00-24:00'], timezone: 'Europe/Berlin' }, null, 2)}\n`, { mode: 0o600 });

// ---- 1, 2: start-up latency of the allow and the refusal path -------------
const PULL_COMMAND = `${SERVER_COMMAND} /`;
const PUSH_COMMAND = 'rsync --server -vlogDtprxze.iLsfxCIvu --numeric-ids . /'; // refused: the policy is read-only
const allowEnv = sshdLikeEnv(PULL_COMMAND);
const refuseEnv = sshdLikeEnv(PUSH_COMMAND);
const ok = (s) => s === 0;
const cases = [{ id: 'true', label: '/bin/true (spawn floor)', argv: ['/bin/true'], env: allowEnv, expect: ok }];
for (const n of nodes) {
  const gate = (policy) => [n.launcher, 'gate', '--policy', policy];
  cases.push(
    { id: `${n.id}.bare`, label: `${n.id} bare node -e 0`, argv: [n.bin, '-e', '0'], env: allowEnv, expect: ok },
    { id: `${n.id}.gate`, label: `${n.id} gate allow (launcher, ${n.exec}, yaml)`, argv: gate(policies.yaml), env: allowEnv, expect: ok },
    { id: `${n.id}.gate-json`, label: `${n.id} gate allow (launcher, ${n.exec}, json)`, argv: gate(policies.json), env: allowEnv, expect: ok },
    { id: `${n.id}.gate-window`, label: `${n.id} gate allow (launcher, ${n.exec}, json, window)`, argv: gate(windowPolicy), env: allowEnv, expect: ok },
    { id: `${n.id}.refuse`, label: `${n.id} gate refuse (launcher, yaml)`, argv: gate(policies.yaml), env: refuseEnv, expect: (s) => s === 77 },
  );
}
{
  const gate = (policy) => [executable.bin, 'gate', '--policy', policy];
  cases.push(
    { id: 'exe.gate', label: `executable gate allow (${executable.version}, yaml)`, argv: gate(policies.yaml), env: allowEnv, expect: ok },
    { id: 'exe.gate-json', label: 'executable gate allow (json)', argv: gate(policies.json), env: allowEnv, expect: ok },
    { id: 'exe.refuse', label: 'executable gate refuse (yaml)', argv: gate(policies.yaml), env: refuseEnv, expect: (s) => s === 77 },
  );
}
if (rrsync) {
  cases.push(
    { id: 'rrsync', label: 'rrsync -ro allow', argv: [rrsync, '-ro', '/'], env: allowEnv, expect: ok },
    { id: 'rrsync.refuse', label: 'rrsync -ro refuse', argv: [rrsync, '-ro', '/'], env: refuseEnv, expect: (s) => s !== 0 },
  );
}
log(`bench: latency, ${PLAN.latencyRounds} rounds of ${cases.length} cases...`);
const latency = measureLatency(cases, { rounds: PLAN.latencyRounds, onRound: (r) => r % 10 === 0 && log(`  round ${r}`) });

// ---- 4a: peak resident set of the gate path --------------------------------
log('bench: peak RSS...');
const peakRss = {};
for (const c of cases) if (c.id !== 'true') peakRss[c.id] = { label: c.label, ...peakRssKiB(c, PLAN.rssReps) };

// ---- 3, 4b: end to end through a private sshd ------------------------------
let endToEnd = null;
if (e2e) {
  log('bench: end to end: building trees...');
  const small = join(work, 'trees', 'small');
  const large = join(work, 'trees', 'large');
  buildManySmall(small, PLAN.smallFiles);
  const largeBytes = buildLarge(large, PLAN.largeMiB);
  const largeFiles = Math.max(1, Math.round(PLAN.largeMiB / 8));
  const sshd = await startSshd({ prefix: 'gk-bench-sshd-', logLevel: 'ERROR' });
  try {
    const pol = (name, root) => writePolicies(join(work, 'policies'), name, { rsync: '/usr/bin/rsync', root, log: logFile, stateDir }).yaml;
    const e2eCases = (tree, policy) => [
      { id: 'fixed', label: 'fixed command (original setup)', keyLine: fixedLine(sshd.clientPublicKey, tree) },
      ...nodes.map((n) => ({ id: `gate-${n.id}`, label: `gate ${n.id} (${n.exec})`, keyLine: gateLine(sshd.clientPublicKey, { launcher: n.launcher, policy }) })),
      { id: 'gate-exe', label: 'gate executable (execve)', keyLine: gateLine(sshd.clientPublicKey, { launcher: executable.bin, policy }) },
      ...nodes.map((n) => ({ id: `floor-${n.id}`, label: `bare ${n.id} -e 0, then fixed`, keyLine: floorLine(sshd.clientPublicKey, tree, n.bin) })),
    ];
    log(`bench: no-op resync of ${PLAN.smallFiles} unchanged files, ${PLAN.noopReps} rounds...`);
    const noop = await noopResync(sshd, e2eCases(small, pol('small', small)), { dir: work, reps: PLAN.noopReps, onRep: (r) => log(`  round ${r}`) });
    log(`bench: full pull of ${PLAN.largeMiB} MiB, ${PLAN.fullReps} round(s)...`);
    // Destinations on tmpfs when there is one (see fullPull).
    const destDir = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/gk-bench-') : work;
    chmodSync(destDir, 0o700);
    process.on('exit', () => rmSync(destDir, { recursive: true, force: true }));
    const full = await fullPull(sshd, e2eCases(large, pol('large', large)), { dir: work, destDir, reps: PLAN.fullReps, bytes: largeBytes, files: largeFiles, onRep: (r) => log(`  round ${r}`) });
    endToEnd = { smallFiles: PLAN.smallFiles, largeBytes, noop, full };
  } finally {
    await sshd.stop();
  }
}

// ---- report --------------------------------------------------------------
const results = {
  when: new Date().toISOString(),
  quick,
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? '?', memMiB: Math.round(totalmem() / 1048576) },
  // Other work on the machine widens the spread (p90); the ratios compare cases measured side by side.
  loadavg: { start: loadAtStart, end: loadavg().map((x) => Math.round(x * 100) / 100) },
  nodes: nodes.map(({ id, bin, version, exec }) => ({ id, bin, version, exec })),
  executable: { version: executable.version, of: executable.of },
  plan: PLAN,
  latency,
  peakRssKiB: peakRss,
  endToEnd,
  seconds: Math.round((Date.now() - started) / 1000),
};
results.ratios = ratiosOf(results);
results.aims = judgeAims(results);
printReport(results);
mkdirSync(join(outFile, '..'), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);
log(`bench: wrote ${outFile} (${results.seconds} s)`);

function ratiosOf(r) {
  const med = (id) => r.latency[id]?.median;
  const out = {};
  for (const n of r.nodes) {
    out[`${n.id}.gate/bare`] = ratio(med(`${n.id}.gate`), med(`${n.id}.bare`));
    out[`${n.id}.gate-json/bare`] = ratio(med(`${n.id}.gate-json`), med(`${n.id}.bare`));
    out[`${n.id}.gate-window/gate-json`] = ratio(med(`${n.id}.gate-window`), med(`${n.id}.gate-json`));
    out[`${n.id}.refuse/bare`] = ratio(med(`${n.id}.refuse`), med(`${n.id}.bare`));
    if (med('rrsync')) {
      out[`${n.id}.gate/rrsync`] = ratio(med(`${n.id}.gate`), med('rrsync'));
      out[`${n.id}.refuse/rrsync.refuse`] = ratio(med(`${n.id}.refuse`), med('rrsync.refuse'));
    }
    if (r.endToEnd) {
      const e = r.endToEnd;
      out[`${n.id}.noop/fixed`] = ratio(e.noop[`gate-${n.id}`].median, e.noop.fixed.median);
      out[`${n.id}.full-throughput/fixed`] = ratio(e.full[`gate-${n.id}`].mibPerSec.median, e.full.fixed.mibPerSec.median);
      // The best any node program could do in its place, measured through
      // sshd: a bare node start, then the fixed command.
      out[`${n.id}.noop-floor/fixed`] = ratio(e.noop[`floor-${n.id}`].median, e.noop.fixed.median);
      out[`${n.id}.full-floor/fixed`] = ratio(e.full[`floor-${n.id}`].mibPerSec.median, e.full.fixed.mibPerSec.median);
      out[`${n.id}.noop/floor`] = ratio(e.noop[`gate-${n.id}`].median, e.noop[`floor-${n.id}`].median);
      out[`${n.id}.full-throughput/floor`] = ratio(e.full[`gate-${n.id}`].mibPerSec.median, e.full[`floor-${n.id}`].mibPerSec.median);
    }
  }
  // The executable beside the launcher and bare node of the same Node version.
  const of = r.executable.of;
  if (of) {
    out['exe.gate/launcher'] = ratio(med('exe.gate'), med(`${of}.gate`));
    out['exe.gate-json/launcher'] = ratio(med('exe.gate-json'), med(`${of}.gate-json`));
    out['exe.refuse/launcher'] = ratio(med('exe.refuse'), med(`${of}.refuse`));
    out['exe.gate/bare'] = ratio(med('exe.gate'), med(`${of}.bare`));
    if (r.endToEnd) {
      out['exe.noop/floor'] = ratio(r.endToEnd.noop['gate-exe'].median, r.endToEnd.noop[`floor-${of}`].median);
      out['exe.noop/fixed'] = ratio(r.endToEnd.noop['gate-exe'].median, r.endToEnd.noop.fixed.median);
      out['exe.full-throughput/fixed'] = ratio(r.endToEnd.full['gate-exe'].mibPerSec.median, r.endToEnd.full.fixed.mibPerSec.median);
    }
  }
  if (med('rrsync')) out['exe.gate/rrsync'] = ratio(med('exe.gate'), med('rrsync'));
  return out;
}
