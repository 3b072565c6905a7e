// A private OpenSSH sshd on loopback, for the end-to-end tests and `npm run demo`.
// Plain ESM JavaScript so the demo runs it with any Node, and the tests import
// the same code (typed by sshd.d.mts) instead of a second copy.
//
// Everything lives in one temporary directory that only root can enter: the
// host key, sshd_config, authorized_keys, the pid file, the client key. sshd
// keeps StrictModes on, and StrictModes refuses an authorized_keys file below a
// group/world-writable directory (even a sticky /tmp), so the directory is made
// under a root-owned parent that nobody else can write (/run by default).
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, chmodSync, statSync, openSync, closeSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SSHD = '/usr/sbin/sshd';
export const SSH = '/usr/bin/ssh';
export const SSH_KEYGEN = '/usr/bin/ssh-keygen';
export const RSYNC = '/usr/bin/rsync';
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const GATEKEEPER = join(REPO, 'dist', 'gatekeeper.mjs');

/** What a machine needs for the harness; null when all is there. */
export function missingPrerequisites() {
  const problems = [];
  if (typeof process.getuid === 'function' && process.getuid() !== 0) problems.push('must run as root (a private sshd that lets root in only through a forced command)');
  for (const bin of [SSHD, SSH, SSH_KEYGEN, RSYNC]) if (!existsSync(bin)) problems.push(`${bin} is missing`);
  return problems.length ? problems : null;
}

export const INSTALL_HINT = 'apt-get install -y openssh-server openssh-client rsync';

/** Words safe to put unquoted into the forced command (sshd runs it with the user's shell). */
const SAFE_WORD = /^[A-Za-z0-9_./:=+@%-]+$/;

/** A root-only scratch directory whose whole parent chain satisfies sshd's StrictModes. */
export function makePrivateDir(prefix = 'gk-e2e-') {
  const parent = existsSync('/run') && statSync('/run').isDirectory() ? '/run' : '/var/lib';
  const dir = mkdtempSync(join(parent, prefix));
  chmodSync(dir, 0o700);
  return dir;
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; sshd binds it a moment later). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1000, () => done(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every sshd this process started, so an exit handler can stop them whatever happens. */
const running = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const h of running) h.stopSync();
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

/**
 * Start a private sshd on 127.0.0.1.
 * @param {{ extraConfig?: string[], prefix?: string, logLevel?: string, keyComment?: string }} [options]
 */
export async function startSshd(options = {}) {
  const problems = missingPrerequisites();
  if (problems) throw new Error(`cannot start the private sshd: ${problems.join('; ')} (install: ${INSTALL_HINT})`);
  // sshd's privilege separation directory; missing on a machine where sshd never ran.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = makePrivateDir(options.prefix);
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'client_ed25519');
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'gatekeeper-e2e-host', '-f', hostKey], { stdio: 'ignore' });
  execFileSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', options.keyComment ?? 'gatekeeper-e2e-client', '-f', clientKey], { stdio: 'ignore' });
  const clientPublicKey = readFileSync(`${clientKey}.pub`, 'utf8').trim();
  const authorizedKeys = join(dir, 'authorized_keys');
  writeFileSync(authorizedKeys, '', { mode: 0o600 });
  const config = join(dir, 'sshd_config');
  const pidFile = join(dir, 'sshd.pid');
  const logFile = join(dir, 'sshd.log');

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    writeFileSync(
      config,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${hostKey}`,
        `PidFile ${pidFile}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        'AuthorizedPrincipalsFile none',
        'PermitRootLogin forced-commands-only',
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'HostbasedAuthentication no',
        'UsePAM no',
        'StrictModes yes',
        'PermitUserEnvironment no',
        'ExposeAuthInfo yes',
        'X11Forwarding no',
        'AllowTcpForwarding no',
        'PrintMotd no',
        'PrintLastLog no',
        'UseDNS no',
        'MaxStartups 50:30:100',
        `LogLevel ${options.logLevel ?? 'VERBOSE'}`,
        ...(options.extraConfig ?? []),
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const log = openSync(logFile, 'a', 0o600);
    // Own process group (detached) so stop() takes sshd and its per-connection children down together.
    // options.wrap: an argv prefix that execs sshd elsewhere (e.g. nsenter into a mount namespace).
    const argv = [...(options.wrap ?? []), SSHD, '-D', '-e', '-f', config];
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ['ignore', log, log] });
    closeSync(log);
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const handle = makeHandle({ dir, port, child, clientKey, clientPublicKey, authorizedKeys, config, logFile, hostKey });
    running.add(handle);
    installExitHook();
    // Ready when sshd itself says it listens on our port: a connection alone
    // could reach another process that took the port first (sshd then fails
    // to bind and exits a moment later). Below INFO it says nothing, so the
    // port must answer. The wait ends on a fact (listening, or exited); the
    // deadline only keeps the demo from hanging and is far beyond a slow start.
    const says = !/^(QUIET|FATAL|ERROR)$/i.test(options.logLevel ?? 'VERBOSE');
    const line = `Server listening on 127.0.0.1 port ${port}.`;
    const deadline = Date.now() + 120_000;
    while (!exited && Date.now() < deadline) {
      if (says ? safeRead(logFile).includes(line) : await canConnect(port)) return handle;
      await sleep(25);
    }
    handle.stopSync({ keepDir: true });
    // The port may have been taken between freePort() and sshd's bind: try another.
    if (attempt < 3 && exited && /Address already in use|Cannot bind/i.test(safeRead(logFile))) continue;
    const log2 = safeRead(logFile);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`private sshd did not start on 127.0.0.1:${port}:\n${log2}`);
  }
}

function safeRead(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function makeHandle({ dir, port, child, clientKey, clientPublicKey, authorizedKeys, config, logFile, hostKey }) {
  let stopped = false;
  const sshOptions = [
    '-F', '/dev/null',
    '-i', clientKey,
    '-p', String(port),
    '-o', 'StrictHostKeyChecking=no',
    '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
  ];
  const handle = {
    dir,
    port,
    pid: child.pid,
    host: '127.0.0.1',
    clientKey,
    clientPublicKey,
    authorizedKeys,
    config,
    logFile,
    hostKey,
    /** The ssh arguments (before the destination) every client call uses. */
    sshOptions,
    /** The value for rsync's -e: ssh with the private key and port; safe words only, so rsync's own splitting is exact. */
    rsyncShell: [SSH, ...sshOptions].join(' '),
    /** sshd's own log (-e), for diagnosing a failed test. */
    sshdLog: () => safeRead(logFile),
    /** Replace authorized_keys with these lines. */
    setAuthorizedKeys(lines) {
      writeFileSync(authorizedKeys, lines.map((l) => `${l}\n`).join(''), { mode: 0o600 });
      chmodSync(authorizedKeys, 0o600);
    },
    /** Run ssh to root@127.0.0.1 with these extra arguments (a remote command, or none). */
    ssh(args = [], opts = {}) {
      return run(SSH, [...sshOptions, ...(opts.sshArgs ?? []), 'root@127.0.0.1', ...args], opts);
    },
    /** Run the rsync client with -e set to this sshd (plus opts.sshArgs, safe words only). */
    rsync(args, opts = {}) {
      return handle.spawnRsync(args, opts).done;
    },
    /** Start the rsync client without waiting (for concurrency tests). */
    spawnRsync(args, opts = {}) {
      const shell = [handle.rsyncShell, ...(opts.sshArgs ?? [])].join(' ');
      return start(opts.rsyncBinary ?? RSYNC, ['-e', shell, ...args], opts);
    },
    stopSync({ keepDir = false } = {}) {
      if (!stopped) {
        stopped = true;
        running.delete(handle);
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
    },
    /** Stop sshd (the whole process group) and remove the directory. */
    async stop() {
      const gone = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
      handle.stopSync({ keepDir: true });
      await Promise.race([gone, sleep(3000)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/**
 * The forced command that runs the gate: absolute node, absolute bundle, absolute policy.
 * @param {{ policy: string, node?: string, gatekeeper?: string, extra?: string[] }} o
 */
export function gateCommand({ policy, node = process.execPath, gatekeeper = GATEKEEPER, extra = [] }) {
  // node null: `gatekeeper` is an executable (the installed launcher).
  const words = [...(node === null ? [] : [node]), gatekeeper, 'gate', '--policy', policy, ...extra];
  for (const w of words) {
    // sshd hands the command to the user's shell (bash -c); refuse anything that would need quoting.
    if (!SAFE_WORD.test(w)) throw new Error(`forced command word needs quoting, refusing: ${JSON.stringify(w)}`);
  }
  return words.join(' ');
}

/** One authorized_keys line: `restrict,command="..." KEY`. The only escape inside the quotes is \". */
export function authorizedKeysLine(command, publicKey, options = ['restrict']) {
  const quoted = command.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return [...options, `command="${quoted}"`].join(',') + ' ' + publicKey;
}

/**
 * Run a program (no shell) and collect stdout, stderr and the exit status.
 * @param {string} file
 * @param {string[]} args
 * @param {{ input?: string | Buffer, timeoutMs?: number, env?: Record<string,string>, cwd?: string }} [opts]
 */
export function run(file, args, opts = {}) {
  return start(file, args, opts).done;
}

/** Like run(), but returns the child at once together with a promise of its result. */
export function start(file, args, opts = {}) {
  const child = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: opts.env ?? { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8' },
    cwd: opts.cwd,
  });
  const out = [];
  const err = [];
  child.stdout.on('data', (b) => out.push(b));
  child.stderr.on('data', (b) => err.push(b));
  if (opts.input !== undefined) child.stdin.end(opts.input);
  else child.stdin.end();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs ?? 60_000);
  const done = new Promise((resolve, reject) => {
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        timedOut,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        command: [file, ...args],
      });
    });
  });
  return { child, done };
}
