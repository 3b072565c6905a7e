// `npm run demo`: the original setup's backup, through the gate, on this machine.
//
// Starts a private sshd on 127.0.0.1 (its own port, keys and authorized_keys
// in a root-only temporary directory; the system's sshd is not touched),
// installs a demo key whose forced command is the gate, pulls a small
// generated tree with the seed's rsync command, shows two refusals, prints
// the gate's log through `gatekeeper audit`, and removes everything.
// Plain JavaScript on the built bundle (dist/), run by the Node on PATH.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  GATEKEEPER,
  INSTALL_HINT,
  RSYNC,
  authorizedKeysLine,
  gateCommand,
  missingPrerequisites,
  run,
  startSshd,
} from './lib/sshd.mjs';

const EX_UNAVAILABLE = 69;
const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const step = (n, s) => console.log(`\n${bold(`== ${n}. ${s}`)}`);

function preflight() {
  const problems = missingPrerequisites() ?? [];
  if (problems.length === 0 && existsSync(GATEKEEPER)) return;
  console.error('gatekeeper demo: cannot run here:');
  for (const p of problems) console.error(`  - ${p}`);
  if (!existsSync(GATEKEEPER)) console.error(`  - ${GATEKEEPER} is missing: run \`npm run build\` (npm run demo does it)`);
  if (problems.some((p) => p.includes('missing'))) console.error(`Install what is missing with:\n  ${INSTALL_HINT}`);
  if (problems.some((p) => p.startsWith('must run as root'))) console.error('Run the demo as root, e.g.:\n  sudo npm run demo');
  process.exit(EX_UNAVAILABLE);
}

/** Run with the terminal attached, so rsync's own progress shows as it happens. */
function runLive(file, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

function makeDemoTree(root) {
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'home/alice/notes'), { recursive: true });
  mkdirSync(join(root, 'var/www'), { recursive: true });
  writeFileSync(join(root, 'etc/hostname'), 'demo-server\n');
  writeFileSync(join(root, 'etc/motd'), 'Backed up by rsync, vetted by gatekeeper.\n');
  writeFileSync(join(root, 'home/alice/notes/todo list.txt'), '- test the backups\n- then test the restore\n');
  writeFileSync(join(root, 'home/alice/.secret'), 'shh\n', { mode: 0o600 });
  writeFileSync(join(root, 'var/www/index.html'), '<h1>demo</h1>\n');
  // Something large enough that --progress has something to show.
  const big = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  writeFileSync(join(root, 'var/www/video.bin'), big);
  symlinkSync('index.html', join(root, 'var/www/default.html'));
  const then = new Date('2024-01-01T00:00:00Z');
  utimesSync(join(root, 'etc/hostname'), then, then);
}

function countEntries(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    n++;
    if (e.isDirectory()) n += countEntries(join(dir, e.name));
  }
  return n;
}

async function main() {
  preflight();
  step(1, 'Start a private sshd on 127.0.0.1 (PermitRootLogin forced-commands-only)');
  const sshd = await startSshd({ prefix: 'gk-demo-', keyComment: 'gatekeeper-demo-key' });
  try {
    const dir = sshd.dir;
    console.log(`sshd pid ${sshd.pid} on 127.0.0.1:${sshd.port}; config, keys and authorized_keys in ${dir}`);

    step(2, 'Write a policy and install the demo key with the gate as its forced command');
    const tree = join(dir, 'server-data');
    makeDemoTree(tree);
    const log = join(dir, 'log', 'gatekeeper.log');
    mkdirSync(join(dir, 'log'), { mode: 0o700 });
    mkdirSync(join(dir, 'state'), { mode: 0o700 });
    mkdirSync(join(dir, 'policies'), { mode: 0o700 });
    const policy = join(dir, 'policies', 'demo.yaml');
    const policyText = [
      'description: demo - pull-only backups of a generated tree',
      'access: read-only',
      `root: ${tree}`,
      `rsync: ${RSYNC}`,
      `log: ${log}`,
      `stateDir: ${join(dir, 'state')}`,
      'maxConnections: 1',
      '',
    ].join('\n');
    writeFileSync(policy, policyText, { mode: 0o600 });
    console.log(`${policy}:\n${policyText.replace(/^/gm, '  ').trimEnd()}`);
    // By name, as an installed gate is called: the log and audit say "demo".
    const line = authorizedKeysLine(gateCommand({ policy: 'demo', extra: ['--policy-dir', join(dir, 'policies')] }), sshd.clientPublicKey);
    sshd.setAuthorizedKeys([line]);
    console.log(`${sshd.authorizedKeys}:\n  ${line}`);

    step(3, "The original setup's backup: rsync -avzx --numeric-ids --delete --progress root@host:/ DST/");
    const dst = join(dir, 'backup');
    mkdirSync(dst);
    const backupArgs = ['-avzx', '--numeric-ids', '--delete', '--progress', 'root@127.0.0.1:/', `${dst}/`];
    console.log(`$ rsync -e "ssh -i ${sshd.clientKey} -p ${sshd.port} ..." ${backupArgs.join(' ')}`);
    const backup = await runLive(RSYNC, ['-e', sshd.rsyncShell, ...backupArgs]);
    if (backup.code !== 0) throw new Error(`the backup failed (rsync exit ${backup.code}); sshd log:\n${sshd.sshdLog()}`);
    console.log(`backup complete: ${countEntries(dst)} entries in ${dst}`);

    step(4, 'Forbidden commands are refused, with the gatekeeper reason on the client side');
    const shown = [
      ['ssh root@127.0.0.1 id', () => sshd.ssh(['id'])],
      ['rsync -av ./evil root@127.0.0.1:/ (a push, with a read-only key)', () => {
        const evil = join(dir, 'evil');
        writeFileSync(evil, 'should never arrive\n');
        return sshd.rsync(['-av', evil, 'root@127.0.0.1:/']);
      }],
    ];
    for (const [label, go] of shown) {
      const r = await go();
      console.log(`$ ${label}\n${(r.stderr.trim() || '(no message)').replace(/^/gm, '  ')}\n  -> exit ${r.code}`);
      if (r.code === 0) throw new Error(`expected a refusal for: ${label}`);
    }
    if (existsSync(join(tree, 'evil'))) throw new Error('the refused push created a file on the server');

    step(5, `The gate's log: ${log}`);
    const audit = await run(process.execPath, [GATEKEEPER, 'audit', '--log', log]);
    if (audit.code === 0 && audit.stdout.trim() !== '') {
      console.log(`$ gatekeeper audit --log ${log}\n${audit.stdout.trimEnd()}`);
    } else {
      console.log('(gatekeeper audit is not available in this build; the raw records, one JSON object per line:)');
      console.log(readFileSync(log, 'utf8').trimEnd());
    }
    console.log(`\nDemo done. Everything above lived in ${dir}; removing it and stopping the private sshd.`);
  } finally {
    await sshd.stop();
  }
}

main().catch((err) => {
  console.error(`gatekeeper demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
