// gatekeeper probe against a real private sshd and the real gate: each
// failure the issue lists produced for real, with the probe's line and exit
// code asserted, and the ok case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authorizedKeysLine, gateCommand, run, setupGate, type GateSetup } from '../helpers/sshd.js';
import { freePort } from '../../scripts/lib/sshd.mjs';
import { buildFixtureTree } from '../helpers/tree.js';

let g: GateSetup;
let tree: string;
const CLI = () => g.gatekeeper;

beforeAll(async () => {
  // PermitRootLogin yes (sshd keeps the first value, so in a Match block): a key without a forced command gets a shell.
  g = await setupGate('gk-probe-', ['Match all', 'PermitRootLogin yes']);
  tree = join(g.dir, 'tree');
  buildFixtureTree(tree);
});
afterAll(async () => {
  await g?.stop();
});

interface ProbeRun {
  code: number | null;
  lines: string[];
  json: { steps: { step: string; ok: boolean; line: string }[]; code: number; command?: string };
}

async function probe(target: string, extra: string[] = [], shell = g.sshd.rsyncShell): Promise<ProbeRun> {
  const text = await run(process.execPath, [CLI(), 'probe', '-e', shell, ...extra, target]);
  const json = await run(process.execPath, [CLI(), 'probe', '-e', shell, '--json', ...extra, target]);
  expect(json.code).toBe(text.code);
  return { code: text.code, lines: text.stdout.trim().split('\n'), json: JSON.parse(json.stdout) };
}

const last = (p: ProbeRun) => p.lines.at(-1)!;

describe('gatekeeper probe', () => {
  it('ok: every step, the versions and the command line to use', async () => {
    g.usePolicy('ro', { access: 'read-only', root: tree });
    const p = await probe('root@127.0.0.1:/');
    expect(p.code, p.lines.join('\n')).toBe(0);
    expect(p.json.steps.map((s) => s.step)).toEqual(['connect', 'host-key', 'key', 'forced-command', 'clean-channel', 'describe', 'gate-verdict', 'versions', 'ok']);
    expect(p.lines.find((l) => l.includes('versions'))).toMatch(/^ok {3}versions: rsync here \d+\.\d+\.\d+\S* \(protocol \d+\), there \d+\.\d+\.\d+\S* \(protocol \d+\)/);
    expect(last(p)).toBe(`ok   ok: ok: use rsync -e '${g.sshd.rsyncShell}' -a --numeric-ids -x --delete root@127.0.0.1:/ DEST/`);
  });

  it('a closed port: cannot connect, 69', async () => {
    const port = await freePort();
    const p = await probe('root@127.0.0.1:/', [], g.sshd.rsyncShell.replace(`-p ${g.sshd.port}`, `-p ${port}`));
    expect(p.code).toBe(69);
    expect(last(p)).toBe(`FAIL connect: cannot connect to 127.0.0.1 port ${port}: connection refused (is sshd running and listening there? check the port, -e "ssh -p PORT", and the firewall)`);
  });

  it('a host key unknown, then one swapped since it was pinned: 77', async () => {
    g.usePolicy('ro', { access: 'read-only', root: tree });
    const kh = join(g.dir, 'known_hosts');
    const shell = ['/usr/bin/ssh', '-F', '/dev/null', '-i', g.sshd.clientKey, '-p', String(g.sshd.port), '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none'].join(' ');
    writeFileSync(kh, '');
    const unknown = await probe('root@127.0.0.1:/', [], shell);
    expect(unknown.code).toBe(77);
    expect(last(unknown)).toMatch(/^FAIL host-key: the server's host key is unknown here: pin it/);
    const other = join(g.dir, 'other_host_key');
    execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    writeFileSync(kh, `[127.0.0.1]:${g.sshd.port} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    const swapped = await probe('root@127.0.0.1:/', [], shell);
    expect(swapped.code).toBe(77);
    expect(last(swapped)).toMatch(/^FAIL host-key: the server's host key changed since it was pinned/);
    // The real one pinned: through.
    writeFileSync(kh, `[127.0.0.1]:${g.sshd.port} ${readFileSync(`${g.sshd.hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    expect((await probe('root@127.0.0.1:/', [], shell)).code).toBe(0);
  });

  it('a key not installed: sshd refuses it, 77', async () => {
    g.sshd.setAuthorizedKeys([]);
    const p = await probe('root@127.0.0.1:/');
    expect(p.code).toBe(77);
    expect(last(p)).toMatch(/^FAIL key: sshd refused the key \(.*Permission denied \(publickey\)\.?\): it is not in the user's authorized_keys, or PermitRootLogin forbids it/);
  });

  it('a key without a forced command opens a shell: 78', async () => {
    g.sshd.setAuthorizedKeys([g.sshd.clientPublicKey]);
    const p = await probe('root@127.0.0.1:/');
    expect(p.code).toBe(78);
    expect(last(p)).toMatch(/^FAIL forced-command: the key opens a shell, not the gate/);
  });

  it('a noisy command= wrapper: the first bytes quoted, 76', async () => {
    const file = g.usePolicy('ro', { access: 'read-only', root: tree });
    g.sshd.setAuthorizedKeys([authorizedKeysLine(`echo Welcome to srv1; ${gateCommand({ policy: file, gatekeeper: g.gatekeeper })}`, g.sshd.clientPublicKey)]);
    const p = await probe('root@127.0.0.1:/');
    expect(p.code).toBe(76);
    expect(last(p)).toMatch(/^FAIL clean-channel: bytes before the gate's answer \(rsync would say "protocol version mismatch -- is your shell clean\?"\): "Welcome to srv1\\n"; /);
  });

  it('a daemon policy asked for HOST:/ (the notes\' trap): the gate\'s reason, 77', async () => {
    const conf = join(g.dir, 'rsyncd.conf');
    writeFileSync(conf, `[system]\n    path = ${tree}\n    read only = true\n`, { mode: 0o600 });
    g.usePolicy('d', { daemon: { config: conf } });
    const p = await probe('root@127.0.0.1:/');
    expect(p.code).toBe(77);
    expect(last(p)).toMatch(/^FAIL gate-verdict: the gate refuses what this rsync sends \(rsync --server --sender .* \. \/\): this is a daemon policy: this server serves rsync modules, not paths: use HOST::MODULE\b/);
    expect(p.lines.find((l) => l.includes(' describe: '))).toContain('daemon modules system');
    const ok = await probe('root@127.0.0.1::system');
    expect(ok.code, ok.lines.join('\n')).toBe(0);
  });

  it('a push to a read-only policy: 77', async () => {
    g.usePolicy('ro', { access: 'read-only', root: tree });
    const p = await probe('root@127.0.0.1:/', ['--push']);
    expect(p.code).toBe(77);
    expect(last(p)).toMatch(/^FAIL gate-verdict: the gate refuses what this rsync sends \(rsync --server .*\): this policy is read-only: the client may pull/);
  });

  it('a window that is closed now: 77, the window named', async () => {
    const h = (new Date().getUTCHours() + 2) % 24;
    const range = `${String(h).padStart(2, '0')}:00-${String(h).padStart(2, '0')}:30`;
    g.usePolicy('win', { access: 'read-only', root: tree, window: [range], timezone: 'UTC' });
    const p = await probe('root@127.0.0.1:/');
    expect(p.code).toBe(77);
    expect(last(p)).toContain(`: outside this policy's backup window ${range} (UTC)`);
  });

  it('a "from" that excludes the client: 77', async () => {
    g.usePolicy('from', { access: 'read-only', root: tree, from: ['198.51.100.0/24'] });
    const p = await probe('root@127.0.0.1:/');
    expect(p.code).toBe(77);
    expect(last(p)).toBe('FAIL gate-verdict: the gate refuses this client\'s address: refused: client address 127.0.0.1 is not in the policy\'s "from" list; add it to the policy\'s from list, or connect from an address in it');
  });
});
