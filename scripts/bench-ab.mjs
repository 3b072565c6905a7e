// A/B start-up of two gate builds, alternately, in one run: the gate's
// wall time per connection, A then B then A …, so both see the same load.
// Lighter than `npm run bench` (no sshd, no transfer): for one change to the
// gate's path, e.g. pino writing the record.
//
// Usage: node scripts/bench-ab.mjs DIST_A DIST_B [RUNS] [--only TEXT,…]   (each a `node scripts/build.mjs --outdir DIR`)
// Runs each build's dist/gate.cjs with Node 24 (node_modules/node), as root
// when run as root (then with the gate's code cache, as installed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// --only TEXT[,TEXT]: just the cases whose name contains one of them.
const argv = process.argv.slice(2);
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? argv.splice(onlyAt, 2)[1].split(',') : null;
const [a, b, runsText = '40'] = argv;
if (!a || !b) {
  process.stderr.write('usage: node scripts/bench-ab.mjs DIST_A DIST_B [RUNS]\n');
  process.exit(64);
}
const node = join(root, 'node_modules', 'node', 'bin', 'node');
const runs = Number(runsText);
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'gk-bench-ab-')));
chmodSync(dir, 0o700);
writeFileSync(join(dir, 'p.json'), JSON.stringify({ root: dir, log: join(dir, 'gate.log') }), { mode: 0o600 });

// An allowed pull execs rsync (which, with no client on stdin, ends at once)
// and is the one that writes the gate's code cache; `true` and a refusal
// run without it.
const PULL = 'rsync --server --sender -logDtpre.iLsfxCIvu . /';
// With ExposeAuthInfo, sshd names the key in a file (SSH_USER_AUTH): a plain
// key, or a certificate the gate parses for the record (src/sshd/cert.ts).
const keygen = (args) => spawnSync('/usr/bin/ssh-keygen', ['-q', ...args], { stdio: 'ignore' });
keygen(['-t', 'ed25519', '-N', '', '-f', join(dir, 'ca')]);
keygen(['-t', 'ed25519', '-N', '', '-f', join(dir, 'k')]);
keygen(['-s', join(dir, 'ca'), '-I', 'backup@web-1', '-z', '101', '-n', 'backup', '-V', '-1h:+1d', join(dir, 'k.pub')]);
const authFile = (name, pub) => {
  const [type, blob] = readFileSync(join(dir, pub), 'utf8').split(' ');
  writeFileSync(join(dir, name), `publickey ${type} ${blob}\n`);
  return join(dir, name);
};
const plainAuth = authFile('auth-plain', 'k.pub');
const certAuth = authFile('auth-cert', 'k-cert.pub');
const cases = {
  'pull (allow, exec rsync)': { command: PULL },
  'pull, plain key in SSH_USER_AUTH': { command: PULL, auth: plainAuth },
  'pull, certificate in SSH_USER_AUTH': { command: PULL, auth: certAuth },
  'true (allow, no exec)': { command: 'true' },
  'refused push': { command: 'rsync --server -logDtpre.iLsfxCIvu . /' },
};
const env = ({ command, auth }) => ({
  PATH: '/usr/bin:/bin',
  USER: 'root',
  SSH_CONNECTION: '198.51.100.7 50000 192.0.2.1 22',
  SSH_ORIGINAL_COMMAND: command,
  ...(auth ? { SSH_USER_AUTH: auth } : {}),
});
// gate.cjs exports gate(); run it as the launcher does.
for (const dist of [a, b]) writeFileSync(join(dist, 'run-gate.cjs'), "require('./gate.cjs').gate(process.argv.slice(2));\n");
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
// CPU time of waited-for children (utime + stime, clock ticks of 10 ms):
// on a loaded machine wall time mostly measures the queue for a CPU, CPU
// time what the gate itself costs. Summed over all runs of a build.
const childTicks = () => {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[13]) + Number(f[14]); // cutime, cstime (fields 16, 17)
};
const cpu = new Map();
const run = (dist, command) => {
  const c0 = childTicks();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, [join(dist, 'run-gate.cjs'), '--policy', 'p', '--policy-dir', dir], { env: env(command), input: '' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  cpu.set(dist, (cpu.get(dist) ?? 0) + childTicks() - c0);
  if (r.status !== 0 && r.status !== 77 && command.command !== PULL) throw new Error(`${dist}: status ${r.status}: ${r.stderr}`);
  return ms;
};
try {
  for (const [name, command] of Object.entries(cases)) {
    if (only && !only.some((o) => name.includes(o))) continue;
    for (let i = 0; i < 3; i++) [a, b].forEach((d) => run(d, command)); // caches written
    cpu.clear();
    const ta = [];
    const tb = [];
    for (let i = 0; i < runs; i++) {
      if (i % 2) {
        tb.push(run(b, command));
        ta.push(run(a, command));
      } else {
        ta.push(run(a, command));
        tb.push(run(b, command));
      }
    }
    const ma = median(ta);
    const mb = median(tb);
    const ca = (cpu.get(a) * 10) / runs;
    const cb = (cpu.get(b) * 10) / runs;
    process.stdout.write(
      `${name}: wall A ${ma.toFixed(1)} ms, B ${mb.toFixed(1)} ms (medians of ${runs}), B/A ${(mb / ma).toFixed(3)}; ` +
        `CPU A ${ca.toFixed(1)} ms, B ${cb.toFixed(1)} ms (means), B/A ${(cb / ca).toFixed(3)}\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  for (const dist of [a, b]) rmSync(join(dist, 'run-gate.cjs'), { force: true });
}
