// install --ca: the principals and CA file lines (pure), where sshd's
// certificate settings go (pure), and install/uninstall through the CLI
// against copies of real sshd_config shapes, judged by the real sshd.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePublicKey, type PublicKey } from '../../src/sshd/authorized-keys.js';
import { parsePrincipals, parsePrincipalsLine, printPrincipals } from '../../src/sshd/principals.js';
import { parseCaKey, planCaAdd, planCaRemove, planPrincipalInstall, planPrincipalRemoval, principalLine } from '../../src/install/ca.js';
import { caDropInContent, caSettingLines, planCaSshdChange } from '../../src/install/sshd-plan.js';
import { sshdEffective } from '../../src/sshd/run.js';
import type { Shape } from '../sshd/shapes.js';
import { KEYS, cli, makeServer, scratchServers, tree, type Server } from './setup.js';

const CMD = '/usr/local/bin/gatekeeper gate --policy system-backup';
const spec = { command: CMD, restrict: true };
const key = (file: string): PublicKey => {
  const k = parsePublicKey(readFileSync(join(KEYS, file), 'utf8'));
  if ('error' in k) throw new Error(k.error);
  return k;
};

describe('principals lines', () => {
  it('renders restrict, the gate command, from=, then the principal', () => {
    expect(principalLine('alice', spec)).toBe(`restrict,command="${CMD}" alice`);
    expect(principalLine('backup@host-1', { ...spec, from: ['192.0.2.10', '198.51.100.0/24'] })).toBe(`restrict,command="${CMD}",from="192.0.2.10,198.51.100.0/24" backup@host-1`);
    expect(principalLine('alice', { ...spec, restrict: false })).toBe(`no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty,no-user-rc,command="${CMD}" alice`);
  });
  it('refuses a principal sshd would read differently (a blank, a comma, a leading #)', () => {
    for (const bad of ['two words', 'a,b', '#x', '', 'x'.repeat(129)]) expect(() => principalLine(bad, spec), bad).toThrow(/principal/);
  });
  it('parses as sshd does: the last word is the principal, the rest an authorized_keys options field', () => {
    const l = parsePrincipalsLine(principalLine('alice', { ...spec, from: ['192.0.2.10'] }));
    expect(l).toMatchObject({ kind: 'principal', name: 'alice', options: [{ name: 'restrict', value: null }, { name: 'command', value: CMD }, { name: 'from', value: '192.0.2.10' }] });
    expect(parsePrincipalsLine('bob')).toMatchObject({ kind: 'principal', name: 'bob', options: [] });
    expect(parsePrincipalsLine('  # comment')).toMatchObject({ kind: 'comment' });
    expect(parsePrincipalsLine('command="unterminated bob').kind).toBe('invalid');
    expect(parsePrincipalsLine('bogus-option bob')).toMatchObject({ kind: 'invalid', error: 'unknown option bogus-option' });
    expect(parsePrincipalsLine('restrict no-pty bob').kind).toBe('invalid');
    const text = `# mine\n${principalLine('a', spec)}\n\nb`;
    expect(printPrincipals(parsePrincipals(text))).toBe(text);
  });
});

describe('the principals file plan', () => {
  it('adds, then changes nothing the second time, then replaces in place and drops duplicates', () => {
    const first = planPrincipalInstall('# admin\nops', 'alice', spec);
    expect(first).toMatchObject({ action: 'added', replaced: null });
    expect(first.text).toBe(`# admin\nops\n${principalLine('alice', spec)}\n`);
    expect(planPrincipalInstall(first.text, 'alice', spec)).toMatchObject({ action: 'unchanged', text: first.text });
    const other = { command: `${CMD}-2`, restrict: true };
    const text = `command="/bin/true" alice\nops\nalice\n`;
    const p = planPrincipalInstall(text, 'alice', other);
    expect(p).toMatchObject({ action: 'replaced', replaced: 'command="/bin/true" alice' });
    expect(p.text).toBe(`${principalLine('alice', other)}\nops\n`);
  });
  it('removal takes out exactly the line install wrote and puts back the one it replaced', () => {
    const line = principalLine('alice', spec);
    expect(planPrincipalRemoval(`ops\n${line}\n# end\n`, line, null)).toEqual({ text: 'ops\n# end\n', changed: true });
    expect(planPrincipalRemoval(`${line}\nops\n`, line, 'command="/bin/true" alice')).toEqual({ text: 'command="/bin/true" alice\nops\n', changed: true });
    expect(planPrincipalRemoval(`${line},x\n`, line, null)).toEqual({ text: `${line},x\n`, changed: false });
  });
});

describe('the CA file', () => {
  const ca = key('ca.pub');
  const ed = key('id_ed25519.pub');
  it('accepts one plain public key and refuses a certificate, a private key, options, two keys, DSA', () => {
    expect(parseCaKey(readFileSync(join(KEYS, 'ca.pub'), 'utf8'))).toEqual(ca);
    expect(parseCaKey(readFileSync(join(KEYS, 'id_ed25519-cert.pub'), 'utf8'))).toEqual({ error: expect.stringMatching(/is a certificate/) });
    expect(parseCaKey('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n')).toEqual({ error: expect.stringMatching(/private key/) });
    expect(parseCaKey(`cert-authority ${readFileSync(join(KEYS, 'ca.pub'), 'utf8')}`)).toEqual({ error: expect.stringMatching(/options/) });
    expect(parseCaKey(`${readFileSync(join(KEYS, 'ca.pub'), 'utf8')}\n${readFileSync(join(KEYS, 'id_ed25519.pub'), 'utf8')}`)).toEqual({ error: expect.stringMatching(/one CA per file/) });
    expect(parseCaKey(readFileSync(join(KEYS, 'id_dsa.pub'), 'utf8'))).toEqual({ error: expect.stringMatching(/DSA/) });
    expect(parseCaKey('')).toEqual({ error: 'no public key found' });
  });
  it('holds several CAs, one per line; the same CA again (any comment) changes nothing; removal takes only that CA', () => {
    const one = planCaAdd('', ca);
    expect(one).toMatchObject({ action: 'added', text: `${ca.type} ${ca.blob}${ca.comment ? ` ${ca.comment}` : ''}\n` });
    const two = planCaAdd(one.text.trimEnd(), ed);
    expect(two.text.split('\n')).toHaveLength(3);
    expect(planCaAdd(two.text, { ...ca, comment: 'renamed' })).toMatchObject({ action: 'unchanged', text: two.text });
    expect(planCaRemove(two.text, ca)).toEqual({ text: `${two.line}\n`, changed: true });
    expect(planCaRemove(`${two.line}\n`, ca)).toEqual({ text: `${two.line}\n`, changed: false });
  });
});

describe("sshd's certificate settings", () => {
  const s = { caFile: '/etc/ssh/gatekeeper_user_ca.pub', principals: '/etc/ssh/gatekeeper_principals/%u' };
  it('follow from what is installed, and never trust a CA without the principals file', () => {
    expect(caSettingLines(s)).toEqual(['TrustedUserCAKeys /etc/ssh/gatekeeper_user_ca.pub', 'AuthorizedPrincipalsFile /etc/ssh/gatekeeper_principals/%u', 'ExposeAuthInfo yes']);
    expect(caSettingLines({ caFile: null, principals: s.principals })).toEqual(['AuthorizedPrincipalsFile /etc/ssh/gatekeeper_principals/%u', 'ExposeAuthInfo yes']);
    expect(caSettingLines({ caFile: null, principals: null })).toEqual([]);
    expect(() => caSettingLines({ caFile: s.caFile, principals: null })).toThrow(/AuthorizedPrincipalsFile/);
  });
  it('go into a drop-in of their own where a drop-in directory is Included, else before the first Match', () => {
    const debian = 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n';
    expect(planCaSshdChange('/etc/ssh/sshd_config', debian, s)).toMatchObject({ kind: 'dropin', path: '/etc/ssh/sshd_config.d/00-gatekeeper-ca.conf', content: caDropInContent(s) });
    const plain = 'PermitRootLogin no\nMatch User backup\n  X11Forwarding no';
    const p = planCaSshdChange('/etc/ssh/sshd_config', plain, s);
    expect(p.kind).toBe('edit');
    if (p.kind !== 'edit') return;
    expect(p.text).toBe(`PermitRootLogin no\n${p.written.join('\n')}\nMatch User backup\n  X11Forwarding no`);
    expect(p.written.slice(1)).toEqual(caSettingLines(s));
    expect(planCaSshdChange('/etc/ssh/sshd_config', 'PermitRootLogin no', s)).toMatchObject({ addedTrailingNewline: true });
  });
});

// ---------------------------------------------------------------- through the CLI

const { HOSTKEY, servers } = scratchServers('gk-ca-hostkey-');

interface CaServer extends Server {
  etc: string;
  caFile: string;
  principals: string;
  install(extra: string[]): ReturnType<typeof cli>;
}
function caServer(shape: Shape): CaServer {
  const s = makeServer(shape, HOSTKEY);
  servers.push(s);
  const etc = join(s.base, 'etc-ssh');
  const caFile = join(etc, 'gatekeeper_user_ca.pub');
  const principals = join(etc, 'gatekeeper_principals');
  const install = (extra: string[]) =>
    cli(['install', '--policy', s.policy, ...s.args, '--logrotate-dir', s.logrotateDir, '--node', '/usr/bin/node', '--no-reload', '--ca-file', caFile, '--principals-dir', principals, ...extra]);
  return { ...s, etc, caFile, principals, install };
}
const CA = join(KEYS, 'ca.pub');
const rootAt = { user: 'root', host: 'localhost', addr: '127.0.0.1' };

describe('install --ca / uninstall --principal, --ca through the CLI', () => {
  for (const shape of ['debian', 'no-include'] as const) {
    it(`${shape}: sshd -T shows the settings, a second install changes nothing, uninstall leaves /etc/ssh as it was`, async () => {
      const s = caServer(shape);
      const before = tree(s.etc);
      const r = s.install(['--ca', CA, '--principal', 'alice,bob', '--from', '192.0.2.10']);
      expect(r.status, r.stderr).toBe(0);
      const eff = await sshdEffective('/usr/sbin/sshd', s.sshdConfig, rootAt);
      if ('error' in eff) throw new Error(eff.error);
      expect(eff.get('trustedusercakeys')).toEqual([s.caFile]);
      expect(eff.get('authorizedprincipalsfile')).toEqual([`${s.principals}/%u`]);
      expect(eff.get('exposeauthinfo')).toEqual(['yes']);
      expect(eff.get('permitrootlogin')).toEqual(['forced-commands-only']);
      for (const p of [s.caFile, join(s.principals, 'root')]) expect((statSync(p).mode & 0o7777).toString(8), p).toBe('644');
      expect((statSync(s.principals).mode & 0o7777).toString(8)).toBe('755');
      expect(readFileSync(join(s.principals, 'root'), 'utf8')).toMatch(/^restrict,command="[^"]+ gate --policy backup [^"]*",from="192\.0\.2\.10" alice\nrestrict,command="[^"]+",from="192\.0\.2\.10" bob\n$/);
      const installed = tree(s.etc);
      const again = s.install(['--ca', CA, '--principal', 'alice,bob', '--from', '192.0.2.10', '--json']);
      expect(again.status, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ changed: false, cas: [{ action: 'unchanged' }], principals: [{ name: 'alice', action: 'unchanged' }, { name: 'bob', action: 'unchanged' }] });
      expect(tree(s.etc)).toEqual(installed);

      for (const args of [['--principal', 'alice,bob'], ['--ca', CA]]) {
        const u = cli(['uninstall', ...args, ...s.args, '--no-reload']);
        expect(u.status, u.stderr).toBe(0);
      }
      // PermitRootLogin's change stays (it belongs to install, not to --ca); everything else is as before.
      const left = tree(s.etc);
      const prl = Object.keys(left).filter((p) => !(p in before));
      expect(prl.every((p) => /00-gatekeeper\.conf$/.test(p))).toBe(true);
      if (shape === 'no-include') expect(readFileSync(s.sshdConfig, 'utf8')).not.toMatch(/TrustedUserCAKeys|AuthorizedPrincipalsFile|gatekeeper install --ca/);
      const all = cli(['uninstall', '--all', ...s.args, '--no-reload']);
      expect(all.status, all.stderr).toBe(0);
      expect(tree(s.etc)).toEqual(before);
    });
  }

  it('no-include: a key and a CA in one sshd_config, uninstall --all restores it byte for byte', () => {
    const s = caServer('no-include');
    const before = tree(s.etc);
    const config = readFileSync(s.sshdConfig, 'utf8');
    expect(s.install(['--ca', CA, '--principal', 'alice']).status).toBe(0);
    const key = cli(['install', '--policy', s.policy, '--key', join(KEYS, 'id_ed25519.pub'), ...s.args, '--logrotate-dir', s.logrotateDir, '--node', '/usr/bin/node', '--no-reload']);
    expect(key.status, key.stderr).toBe(0);
    const u = cli(['uninstall', '--all', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(s.sshdConfig, 'utf8')).toBe(config);
    expect(tree(s.etc)).toEqual(before);
  });

  it('no-include: an sshd_config the admin edited since is edited surgically: only the block install wrote goes', () => {
    const s = caServer('no-include');
    expect(s.install(['--ca', CA, '--principal', 'alice']).status).toBe(0);
    const edited = `# the admin's note\n${readFileSync(s.sshdConfig, 'utf8')}`;
    writeFileSync(s.sshdConfig, edited);
    for (const args of [['--principal', 'alice'], ['--ca', CA]]) expect(cli(['uninstall', ...args, ...s.args, '--no-reload']).status).toBe(0);
    const left = readFileSync(s.sshdConfig, 'utf8');
    expect(left).not.toMatch(/gatekeeper install --ca|TrustedUserCAKeys|AuthorizedPrincipalsFile|ExposeAuthInfo/);
    expect(left.startsWith("# the admin's note\n")).toBe(true);
    expect(left).toContain('PermitRootLogin forced-commands-only');
  });

  it('--dry-run shows the diff and changes nothing', () => {
    const s = caServer('debian');
    const before = tree(s.base);
    const r = s.install(['--ca', CA, '--principal', 'alice', '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`+++ ${s.caFile} (new)`);
    expect(r.stdout).toMatch(/\+restrict,command="[^"]+" alice/);
    expect(r.stdout).toContain('+TrustedUserCAKeys');
    expect(tree(s.base)).toEqual(before);
  });

  it('refuses a certificate or a private key as --ca, and --ca without --principal (64), changing nothing', () => {
    const s = caServer('debian');
    const before = tree(s.base);
    const priv = join(s.base, 'id_priv');
    execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', priv]);
    const cert = s.install(['--ca', join(KEYS, 'id_ed25519-cert.pub'), '--principal', 'alice']);
    expect(cert.status).toBe(64);
    expect(cert.stderr).toMatch(/is a certificate/);
    const pk = s.install(['--ca', priv, '--principal', 'alice']);
    expect(pk.status).toBe(64);
    expect(pk.stderr).toMatch(/private key/);
    expect(s.install(['--ca', CA]).status).toBe(64);
    expect(s.install(['--ca', CA, '--principal', 'two words']).status).toBe(64);
    rmSync(priv);
    rmSync(`${priv}.pub`);
    expect(tree(s.base)).toEqual(before);
  });

  it('refuses (78) when sshd_config sets TrustedUserCAKeys before gatekeeper would, naming the line', () => {
    const s = caServer('no-include');
    const text = readFileSync(s.sshdConfig, 'utf8').split('\n');
    text.splice(1, 0, 'TrustedUserCAKeys /etc/ssh/their_ca.pub');
    writeFileSync(s.sshdConfig, text.join('\n'));
    const before = tree(s.base);
    const r = s.install(['--ca', CA, '--principal', 'alice']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`${s.sshdConfig}:2 sets TrustedUserCAKeys /etc/ssh/their_ca.pub and sshd reads it before`);
    expect(tree(s.base)).toEqual(before);
  });

  it('refuses (78) a principals directory others can write, or a CA file that is a symlink', () => {
    const s = caServer('debian');
    mkdirSync(s.principals, { mode: 0o755 });
    execFileSync('/bin/chmod', ['775', s.principals]);
    const r = s.install(['--ca', CA, '--principal', 'alice']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`${s.principals} is writable by group or others`);
    execFileSync('/bin/chmod', ['755', s.principals]);
    execFileSync('/bin/ln', ['-s', CA, s.caFile]);
    const l = s.install(['--ca', CA, '--principal', 'alice']);
    expect(l.status).toBe(78);
    expect(l.stderr).toContain(`${s.caFile} is a symlink`);
    expect(existsSync(join(s.principals, 'root'))).toBe(false);
  });

  it("an admin's line for the principal is replaced and comes back; lines the admin adds meanwhile stay", () => {
    const s = caServer('debian');
    mkdirSync(s.principals, { mode: 0o755 });
    const file = join(s.principals, 'root');
    writeFileSync(file, 'command="/bin/true" alice\n', { mode: 0o644 });
    const r = s.install(['--ca', CA, '--principal', 'alice']);
    expect(r.status, r.stderr).toBe(0);
    const ours = readFileSync(file, 'utf8');
    expect(ours).toMatch(/^restrict,command="[^"]+ gate --policy backup[^"]*" alice\n$/);
    writeFileSync(file, `${ours}ops\n`);
    const u = cli(['uninstall', '--principal', 'alice', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('command="/bin/true" alice\nops\n');
  });
});
