// doctor's certificate checks on real `sshd -T` output: a set-up made by
// install --ca into a scratch sshd_config, then the same set-up broken the
// ways that matter (a CA file others can write, principals lines that do not
// run the gate or do not parse, a trusted CA without a principals file).
import { chmodSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Check } from '../../src/doctor/checks.js';
import { KEYS, cli, makeServer, scratchServers, type Server } from '../install/setup.js';

const { HOSTKEY, servers } = scratchServers('gk-doctor-ca-');

function doctor(s: Server): Check[] {
  const r = cli(['doctor', '--sshd-config', s.sshdConfig, '--authorized-keys', s.authorizedKeys, '--policy-dir', join(s.configDir, 'policies'), '--json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Check[];
}
const named = (checks: Check[], ...names: string[]) => checks.filter((c) => names.includes(c.check));
const CERT_CHECKS = ['TrustedUserCAKeys', 'CA file', 'AuthorizedPrincipalsFile', 'principals file', 'principals line', 'certificate force-command'];

function installed(): { s: Server; caFile: string; principals: string } {
  const s = makeServer('debian', HOSTKEY);
  servers.push(s);
  const caFile = join(s.base, 'etc-ssh', 'gatekeeper_user_ca.pub');
  const principals = join(s.base, 'etc-ssh', 'gatekeeper_principals');
  const r = cli(['install', '--policy', s.policy, ...s.args, '--logrotate-dir', s.logrotateDir, '--node', '/usr/bin/node', '--no-reload', '--ca', join(KEYS, 'ca.pub'), '--principal', 'alice', '--ca-file', caFile, '--principals-dir', principals]);
  expect(r.status, r.stderr).toBe(0);
  return { s, caFile, principals };
}

describe('doctor: the certificate set-up', () => {
  it('says ok for what install --ca wrote, and states the force-command rule for each principal', () => {
    const { s, caFile, principals } = installed();
    const checks = doctor(s);
    const cert = named(checks, ...CERT_CHECKS);
    expect(cert.filter((c) => c.status === 'fail' || c.status === 'warn')).toEqual([]);
    expect(named(checks, 'TrustedUserCAKeys')[0]?.detail).toBe(caFile);
    expect(named(checks, 'CA file')[0]?.detail).toMatch(/root's alone, mode 644: ssh-ed25519 SHA256:/);
    expect(named(checks, 'AuthorizedPrincipalsFile')[0]?.detail).toBe(`${principals}/%u`);
    const line = named(checks, 'principals line');
    expect(line).toHaveLength(1);
    expect(line[0]).toMatchObject({ status: 'ok', detail: expect.stringMatching(new RegExp(`^${principals}/root:1 principal alice → /.+ gate --policy backup`)) });
    const rule = named(checks, 'certificate force-command');
    expect(rule).toEqual([{ status: 'info', check: 'certificate force-command', detail: expect.stringContaining('forced command options do not match') }]);
    expect(rule[0]!.detail).toContain(`must carry exactly "${line[0]!.detail.split(' → ')[1]}"`);
    expect(named(checks, 'ExposeAuthInfo')[0]?.status).toBe('ok');
    expect(named(checks, 'gate lines')).toEqual([]);
    // The text form prints it too.
    const text = cli(['doctor', '--sshd-config', s.sshdConfig, '--authorized-keys', s.authorizedKeys, '--policy-dir', join(s.configDir, 'policies')]).stdout;
    expect(text).toMatch(/^info {2}certificate force-command: /m);
  });

  it('fails a CA file others can write, a principals line without the gate, a line that does not parse', () => {
    const { s, caFile, principals } = installed();
    chmodSync(caFile, 0o664);
    appendFileSync(join(principals, 'root'), 'command="/bin/sh" carol\ndave\nno-such-option erin\n');
    const checks = doctor(s);
    expect(named(checks, 'CA file')).toEqual([expect.objectContaining({ status: 'fail', detail: expect.stringContaining(`${caFile} is writable by group or others (mode 664)`) })]);
    const lines = named(checks, 'principals line').map((c) => `${c.status} ${c.detail}`);
    expect(lines).toEqual([
      expect.stringMatching(/^ok .*root:1 principal alice → /),
      `fail ${principals}/root:2 principal carol: command="/bin/sh" is not the gate`,
      `fail ${principals}/root:3 principal dave: no command=, so a certificate for it gets whatever it asks for`,
      `fail ${principals}/root:4 is not a valid line (unknown option no-such-option); sshd ignores it, so its principal cannot log in`,
    ]);
  });

  it('fails a trusted CA without a principals file, and says nothing of certificates when there are none', () => {
    const s = makeServer('no-include', HOSTKEY);
    servers.push(s);
    expect(named(doctor(s), ...CERT_CHECKS)).toEqual([]);
    const text = readFileSync(s.sshdConfig, 'utf8').split('\n');
    text.splice(1, 0, `TrustedUserCAKeys ${join(KEYS, 'ca.pub')}`);
    writeFileSync(s.sshdConfig, text.join('\n'));
    const checks = doctor(s);
    expect(named(checks, 'AuthorizedPrincipalsFile')).toEqual([expect.objectContaining({ status: 'fail', detail: expect.stringContaining('sshd accepts any certificate from') })]);
  });
});
