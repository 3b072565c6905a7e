// npm run bench:audit — `gatekeeper audit` on a 1,000,000-record log against
// jq doing the same work, side by side in one run.
//
//   node scripts/bench-audit.mjs [--records N] [--runs N] [--keep]
//
// Writes a table to stdout and the figures to docs/bench-audit.json (stable
// key order, rounded: commit it with the change it measures).
// Also a fleet case: the same number of version 2 records from 200 hosts as
// one rsyslog central file (both timestamp formats, 1% duplicates).
// jq: `apt-get install -y jq` (Debian/Ubuntu); without it the jq column is skipped.
// Peak RSS comes from GNU time (/usr/bin/time, package "time"); without it RSS is not measured.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'gatekeeper.mjs');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i === -1 ? dflt : Number(args[i + 1]);
};
const RECORDS = opt('--records', 1_000_000);
const RUNS = opt('--runs', 3);
const keep = args.includes('--keep');
// Committed: each run's figures, so a regression is a diff (docs/performance.md).
const OUT = join(root, 'docs', 'bench-audit.json');
const load0 = loadavg()[0];
// --only summary,html: time just these tasks (the jq column is skipped with it).
const only = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;

if (!existsSync(cli)) {
  console.error('dist/gatekeeper.mjs is missing: run npm run build first');
  process.exit(1);
}
const which = (p) => (existsSync(p) ? p : null);
const JQ = which('/usr/bin/jq') ?? which('/usr/local/bin/jq');
const TIME = which('/usr/bin/time');
if (!JQ) console.error('jq not found: install it with `apt-get install -y jq` to compare; skipping the jq column');
if (!TIME) console.error('GNU time not found (/usr/bin/time, `apt-get install -y time`): peak RSS not measured');

const work = mkdtempSync(join(tmpdir(), 'gk-bench-audit-'));
const log = join(work, 'gatekeeper.log');

const fleetLog = join(work, 'central.log');
const HOSTS = 200;

// xorshift32: deterministic, so every run times the same log.
function random(seed) {
  return () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
}

const reasons = [
  ['always-refused', 'option --log-file is always refused: a client must not choose where the server writes', ['--log-file']],
  ['access', 'this policy is read-only: the client may pull (rsync HOST:PATH DEST), not push files to the server', undefined],
  ['delete-refused', 'option --delete is refused: it deletes files on the receiving server; set `delete: true` in the policy to allow deletions', ['--delete']],
  ['path-outside-root', '".." is refused in paths ("/../etc"): name the path from the policy root', undefined],
];

const hex8 = (x) => Math.floor(x * 2 ** 32).toString(16).padStart(8, '0');

// A plausible fleet: 40 policies × 250 clients, mostly allowed pulls with
// their exit records, some refusals (a few persistent offenders), rare errors.
// The record's fields in the gate's order, without time, v and the reason.
function fields(rand) {
  const policy = `policy-${Math.floor(rand() * 40)}`;
  const c = Math.floor(rand() * 250);
  const client = { addr: `198.51.${100 + (c >> 8)}.${c & 255}`, port: 40000 + Math.floor(rand() * 20000) };
  const x = rand();
  const base = {
    policy,
    // Two draws: one has only 32 bits, and sessions must not collide by chance.
    session: hex8(rand()) + hex8(rand()),
    pid: 1000 + Math.floor(rand() * 4_000_000),
    user: 'root',
    client,
    server: { addr: '192.0.2.1', port: 22 },
    key: 'ED25519 SHA256:4mJ7xbdBMp8kWcT2vzJ3vN1ftH0Kpf0vQw3mXbYVb9o',
    command: 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /',
  };
  if (x < 0.8) {
    const allow = x < 0.42;
    return { ...base, argv: ['/usr/bin/rsync', '--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '--', '.', '/'], event: allow ? 'allow' : 'exit', reason: allow ? 'allowed: pull (the server sends)' : 'rsync exited with status 0', code: allow ? 'allowed' : undefined, exec: 'spawn', status: allow ? undefined : x < 0.79 ? 0 : 23, signal: allow ? undefined : null };
  }
  if (x < 0.98) {
    const [code, reason, options] = reasons[Math.floor(rand() * reasons.length)];
    return { ...base, argv: null, event: 'deny', reason, code, options, status: 77 };
  }
  return { ...base, argv: null, event: 'error', reason: 'cannot open the log /var/log/gatekeeper/gatekeeper.log: EACCES', code: 'log', status: 78 };
}

async function writeLines(file, line) {
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  let buf = '';
  for (let i = 0; i < RECORDS; i++) {
    buf += line(i);
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((r) => out.once('drain', r));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise((r) => out.end(r));
}

const T0 = Date.parse('2026-10-01T00:00:00Z');
const STEP = (60 * 86400e3) / RECORDS;

// One gatekeeper.log: version 1 records, as the gate wrote them before version 2.
function generate() {
  const rand = random(12345);
  return writeLines(log, (i) => {
    const { reason, ...rec } = fields(rand);
    return JSON.stringify({ v: 1, time: new Date(T0 + i * STEP).toISOString(), policy: rec.policy, ...rec, reason }) + '\n';
  });
}

// A central rsyslog file: version 2 records (pino's level, time, pid,
// hostname, msg) from 200 hosts; half the hosts forward with the traditional
// timestamp (`Oct  1 00:00:00`), half with RFC 3339; 1% of the lines are a
// copy of one a few lines back (forwarding delivers at least once).
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n) => String(n).padStart(2, '0');
function syslogTime(t, traditional) {
  const d = new Date(t);
  if (traditional) return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  return `${d.toISOString().slice(0, 23)}000+00:00`;
}
function generateFleet() {
  const rand = random(54321);
  const recent = [];
  return writeLines(fleetLog, (i) => {
    if (recent.length > 8 && rand() < 0.01) return recent[Math.floor(rand() * recent.length)];
    const t = T0 + i * STEP;
    const h = Math.floor(rand() * HOSTS);
    const host = `srv${h}`;
    const { reason, event, ...rec } = fields(rand);
    // A host serves a few policies to a few dozen clients (20,000 groups in all).
    rec.policy = `policy-${(h + Math.floor(rand() * 4)) % 40}`;
    const c = (h * 7 + Math.floor(rand() * 25)) % 250;
    rec.client = { addr: `198.51.${100 + (c >> 8)}.${c & 255}`, port: rec.client.port };
    const level = event === 'deny' ? 40 : event === 'error' ? 50 : 30;
    const json = JSON.stringify({ level, time: Math.round(t), pid: rec.pid, hostname: host, v: 2, event, ...rec, msg: reason });
    const line = `${syslogTime(t, h % 2 === 0)} ${host} gatekeeper[${rec.pid}]: ${json}\n`;
    recent.push(line);
    if (recent.length > 32) recent.shift();
    return line;
  });
}

// jq doing the same work as audit --summary. jq 1.6's `reduce` over a map of
// thousands of groups copies the map on every update (minutes for 200k
// records), so this is the fastest jq form: slurp, then group_by. Its memory
// grows with the log; audit's does not.
const JQ_SUMMARY = `group_by(.policy + " " + (.client.addr // "-"))[]
| { group: (.[0].policy + " " + (.[0].client.addr // "-")),
    allowed: map(select(.event == "allow")) | length,
    refused: map(select(.event == "deny")) | length,
    failed: map(select(.event == "error" or (.event == "exit" and .status != 0 and .status != 24))) | length,
    first: (map(.time) | min), last: (map(.time) | max),
    lastAllowed: (map(select(.event == "allow") | .time) | max),
    lastSuccess: (map(select(.event == "exit" and (.status == 0 or .status == 24)) | .time) | max),
    reasons: (map(select(.event == "deny") | (.code // .reason) + " " + ((.options // []) | join(" "))) | group_by(.) | map({key: .[0], value: length}) | sort_by(-.value) | .[:3]) }`;

const tasks = [
  {
    name: 'summary',
    audit: [process.execPath, cli, 'audit', '--policy-dir', '/nonexistent', '--log', log, '--summary'],
    jq: JQ ? [JQ, '-s', '-c', JQ_SUMMARY, log] : null,
  },
  {
    name: 'json --decision deny',
    audit: [process.execPath, cli, 'audit', '--policy-dir', '/nonexistent', '--log', log, '--json', '--decision', 'deny'],
    jq: JQ ? [JQ, '-c', 'select(.event == "deny")', log] : null,
  },
  // The fleet case: audit's own work (framing, hosts, duplicates read once); jq has no equivalent.
  { name: 'fleet summary', file: 'fleet', audit: [process.execPath, cli, 'audit', '--policy-dir', '/nonexistent', '--log', fleetLog, '--summary', '--now', '2026-12-01'], jq: null },
  { name: 'fleet metrics', file: 'fleet', audit: [process.execPath, cli, 'audit', '--policy-dir', '/nonexistent', '--log', fleetLog, '--metrics', '--now', '2026-12-01'], jq: null },
];

// audit --html over the same records (issue 22): at most 1.5 × --summary's time, peak RSS under 200 MB.
// --now is the generated log's end, so the timeline's 30 nights hold records.
const htmlFile = join(work, 'report.html');
tasks.push({ name: 'html', audit: [process.execPath, cli, 'audit', '--policy-dir', '/nonexistent', '--log', log, '--html', htmlFile, '--now', '2026-11-30T12:00:00Z'], jq: null });

/** A fleet of 50 hosts, each backing up once a night for 30 nights: the report for it must stay under 2 MB. */
function fleetReportBytes() {
  const fleetLog = join(work, 'fleet.log');
  const lines = [];
  const end = Date.parse('2026-11-30T12:00:00Z');
  for (let k = 30; k >= 1; k--) {
    for (let h = 0; h < 50; h++) {
      const start = end - k * 86400e3 + (h % 12) * 600e3 - 9 * 3600e3;
      const base = { v: 1, policy: 'nightly', session: `${h}-${k}`, pid: 1000 + h, user: 'root', hostname: `host-${String(h).padStart(2, '0')}`, client: { addr: `192.0.2.${h + 1}`, port: 40000 }, server: { addr: '192.0.2.250', port: 22 }, command: 'rsync --server --sender -logDtpre.iLsfxCIvu . /', exec: 'spawn' };
      lines.push(JSON.stringify({ ...base, time: new Date(start).toISOString(), event: 'allow', argv: null, reason: 'allowed: pull' }));
      const status = (h * 7 + k) % 23 === 0 ? 23 : 0;
      lines.push(JSON.stringify({ ...base, time: new Date(start + 1800e3).toISOString(), event: 'exit', argv: null, status, signal: null, reason: `rsync exited with status ${status}` }));
    }
  }
  writeFileSync(fleetLog, lines.join('\n') + '\n');
  const out = join(work, 'fleet.html');
  const r = spawnSync(process.execPath, [cli, 'audit', '--policy-dir', '/nonexistent', '--log', fleetLog, '--html', out, '--now', '2026-11-30T12:00:00Z'], { encoding: 'utf8', env: { PATH: process.env.PATH, TZ: 'UTC' } });
  if (r.status !== 0) throw new Error(`audit --html on the fleet failed (${r.status}): ${r.stderr}`);
  return statSync(out).size;
}

if (only) for (let i = tasks.length - 1; i >= 0; i--) if (only.includes(tasks[i].name)) tasks[i].jq = null; else tasks.splice(i, 1);

function measure(argv, outFile) {
  const fd = openSync(outFile, 'w');
  const timeFile = join(work, 'time.txt');
  const cmd = TIME ? [TIME, '-f', '%e %M %U %S', '-o', timeFile, ...argv] : argv;
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', fd, 'pipe'], env: { PATH: process.env.PATH, TZ: 'UTC' } });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  let rssMB = null;
  // CPU time (user + system) beside the wall clock: on a shared machine the wall clock moves with the others' load.
  let cpuSeconds = null;
  if (TIME) {
    const [, kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ');
    rssMB = Math.round(Number(kb) / 1024);
    cpuSeconds = Number(user) + Number(sys);
  }
  return { seconds, rssMB, cpuSeconds };
}

function best(argv, outFile) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(measure(argv, outFile));
  return {
    seconds: Math.min(...runs.map((r) => r.seconds)),
    rssMB: runs.some((r) => r.rssMB === null) ? null : Math.max(...runs.map((r) => r.rssMB)),
    cpuSeconds: runs.some((r) => r.cpuSeconds === null) ? null : Math.min(...runs.map((r) => r.cpuSeconds)),
    runs: runs.map((r) => Number(r.seconds.toFixed(3))),
  };
}

const lineCount = (file) => {
  const text = readFileSync(file);
  let n = 0;
  for (const b of text) if (b === 10) n++;
  return n;
};

try {
  process.stderr.write(`generating ${RECORDS.toLocaleString('en')} records… `);
  await generate();
  const size = statSync(log).size;
  process.stderr.write(`${(size / 2 ** 20).toFixed(0)} MiB; the fleet's central file… `);
  await generateFleet();
  const fleetSize = statSync(fleetLog).size;
  process.stderr.write(`${(fleetSize / 2 ** 20).toFixed(0)} MiB\n`);
  const results = [];
  for (const t of tasks) {
    process.stderr.write(`timing ${t.name}…\n`);
    const a = best(t.audit, join(work, 'audit.out'));
    const aLines = lineCount(join(work, 'audit.out'));
    const j = t.jq ? best(t.jq, join(work, 'jq.out')) : null;
    const jLines = t.jq ? lineCount(join(work, 'jq.out')) : null;
    results.push({ task: t.name, audit: a, jq: j, auditLines: aLines, jqLines: jLines });
  }
  const nodeVersion = spawnSync(process.execPath, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const jqVersion = JQ ? spawnSync(JQ, ['--version'], { encoding: 'utf8' }).stdout.trim() : null;
  const fmt = (x) => (x === null ? '-' : x.toFixed(2) + ' s');
  const mb = (x) => (x === null ? '-' : `${x} MB`);
  const rows = [['task', 'audit time', 'audit CPU', 'audit peak RSS', 'jq time', 'jq CPU', 'jq peak RSS', 'jq/audit']];
  for (const r of results) {
    rows.push([r.task, fmt(r.audit.seconds), fmt(r.audit.cpuSeconds), mb(r.audit.rssMB), r.jq ? fmt(r.jq.seconds) : '-', r.jq ? fmt(r.jq.cpuSeconds) : '-', r.jq ? mb(r.jq.rssMB) : '-', r.jq ? `${(r.jq.seconds / r.audit.seconds).toFixed(2)}×` : '-']);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`\ngatekeeper audit vs jq — ${RECORDS.toLocaleString('en')} records, ${(size / 2 ** 20).toFixed(0)} MiB (fleet: ${HOSTS} hosts, ${(fleetSize / 2 ** 20).toFixed(0)} MiB), best of ${RUNS}; node ${nodeVersion}${jqVersion ? `, ${jqVersion}` : ''}, ${cpus()[0]?.model ?? 'cpu'} ×${cpus().length}, load ${loadavg()[0].toFixed(2)}\n`);
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  for (const r of results) {
    if (r.task.startsWith('json') && r.jqLines !== null && r.jqLines !== r.auditLines) console.log(`warning: ${r.task}: audit printed ${r.auditLines} lines, jq ${r.jqLines}`);
  }
  // Stable and diffable: fixed key order, one task per block, rounded figures;
  // committed, so the next regression shows as a diff of this file.
  const round = (x) => (x === null ? null : Number(x.toFixed(2)));
  const summaryRun = results.find((r) => r.task === 'summary');
  const htmlRun = results.find((r) => r.task === 'html');
  const fleetBytes = fleetReportBytes();
  const html = htmlRun ? { ratioToSummary: summaryRun ? round(htmlRun.audit.seconds / summaryRun.audit.seconds) : null, peakMB: htmlRun.audit.rssMB, fileBytes: statSync(htmlFile).size, fleet50x30Bytes: fleetBytes } : null;
  if (html) console.log(`\naudit --html: ${html.ratioToSummary}× --summary's time (limit 1.5×), peak RSS ${mb(html.peakMB)} (limit 200 MB); 50 hosts × 30 nights: ${(fleetBytes / 1024).toFixed(0)} KiB (limit 2 MB)`);
  const report = {
    records: RECORDS,
    bytes: size,
    fleet: { hosts: HOSTS, bytes: fleetSize, duplicates: '1%' },
    runs: RUNS,
    node: nodeVersion,
    jq: jqVersion,
    cpu: cpus()[0]?.model ?? null,
    cpus: cpus().length,
    loadBefore: round(load0),
    loadAfter: round(loadavg()[0]),
    date: new Date().toISOString(),
    html,
    tasks: results.map((r) => ({
      task: r.task,
      auditSeconds: round(r.audit.seconds),
      auditRuns: r.audit.runs.map(round),
      auditPeakMB: r.audit.rssMB,
      auditCpuSeconds: round(r.audit.cpuSeconds),
      auditLines: r.auditLines,
      jqSeconds: r.jq ? round(r.jq.seconds) : null,
      jqRuns: r.jq ? r.jq.runs.map(round) : null,
      jqPeakMB: r.jq ? r.jq.rssMB : null,
      jqCpuSeconds: r.jq ? round(r.jq.cpuSeconds) : null,
      jqLines: r.jqLines,
      jqOverAudit: r.jq ? round(r.jq.seconds / r.audit.seconds) : null,
    })),
  };
  writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwritten: ${OUT.slice(root.length + 1)}`);
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.error(`kept ${work}`);
}
