import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gateLine, keyProblem, keysWithoutCommand, planKeyInstall, planKeyRemoval } from '../../src/install/keys.js';
import { parseAuthorizedKeys, parseLine, parsePublicKey, type PublicKey } from '../../src/sshd/authorized-keys.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'authorized_keys');
const mixed = readFileSync(join(FIX, 'mixed'), 'utf8');
const pub = (f: string): PublicKey => {
  const k = parsePublicKey(readFileSync(join(FIX, 'keys', f), 'utf8'));
  if ('error' in k) throw new Error(k.error);
  return k;
};
const ed = pub('id_ed25519.pub');
const spec = { command: '/usr/local/bin/gatekeeper gate --policy system-backup', restrict: true };

describe('the gate line', () => {
  it('is restrict,command="…" KEY, with from= when asked', () => {
    expect(gateLine(ed, spec)).toBe(`restrict,command="/usr/local/bin/gatekeeper gate --policy system-backup" ${ed.type} ${ed.blob} ${ed.comment}`);
    const line = gateLine(ed, { ...spec, from: ['192.0.2.10', '198.51.100.0/24'] });
    expect(line).toContain('command="/usr/local/bin/gatekeeper gate --policy system-backup",from="192.0.2.10,198.51.100.0/24" ssh-ed25519');
    expect(parseLine(line)).toMatchObject({ kind: 'key' });
  });
  it('spells the restrictions out for sshd before 7.2', () => {
    expect(gateLine(ed, { ...spec, restrict: false })).toMatch(/^no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty,no-user-rc,command="/);
  });
  it('refuses a from= that is not an address', () => {
    expect(() => gateLine(ed, { ...spec, from: ['*.example.com'] })).toThrow(/not an IP address or CIDR/);
    expect(() => gateLine(ed, { ...spec, from: ['1.2.3.4" x'] })).toThrow();
  });
  it('refuses DSA keys and says what to do', () => {
    expect(keyProblem(pub('id_dsa.pub'))).toMatch(/ed25519/);
    expect(keyProblem(ed)).toBeNull();
  });
});

describe('planKeyInstall / planKeyRemoval', () => {
  it('adds a new key after a last line without newline, and removal gives the original bytes back', () => {
    const plan = planKeyInstall('ssh-rsa AAAA x', ed, spec);
    expect(plan.action).toBe('added');
    expect(plan.addedTrailingNewline).toBe(true);
    expect(plan.text).toBe(`ssh-rsa AAAA x\n${plan.line}\n`);
    expect(planKeyRemoval(plan.text, plan.line, plan.replaced, plan.addedTrailingNewline).text).toBe('ssh-rsa AAAA x');
  });

  it('leaves a cert-authority line of the same key alone (sshd uses it only for certificates)', () => {
    const plan = planKeyInstall(mixed, pub('ca.pub'), spec);
    expect(plan.action).toBe('added');
    expect(plan.text.startsWith(mixed)).toBe(true);
  });

  it('replaces the same key in place (other options), keeps every other line byte for byte, and is idempotent', () => {
    const plan = planKeyInstall(mixed, ed, spec);
    expect(plan.action).toBe('replaced');
    const before = mixed.split('\n');
    const after = plan.text.split('\n');
    expect(after).toHaveLength(before.length);
    expect(before.filter((l, i) => l !== after[i])).toEqual(plan.replaced);
    expect(after[10]).toBe(plan.line);
    // The lines sshd rejects (same key, broken options) are not "the same key": untouched.
    expect(after[11]).toBe(before[11]);
    expect(planKeyInstall(plan.text, ed, spec)).toMatchObject({ action: 'unchanged', text: plan.text });
    expect(planKeyRemoval(plan.text, plan.line, plan.replaced).text).toBe(mixed);
  });

  it('leaves one line per key: a later duplicate would be a way around the forced command', () => {
    const text = `${ed.type} ${ed.blob} first\n# between\nno-pty ${ed.type} ${ed.blob} second\n`;
    const plan = planKeyInstall(text, ed, spec);
    expect(parseAuthorizedKeys(plan.text).filter((l) => l.kind === 'key')).toHaveLength(1);
    expect(plan.text).toBe(`${plan.line}\n# between\n`);
    const back = planKeyRemoval(plan.text, plan.line, plan.replaced).text;
    expect(back.split('\n').sort()).toEqual(text.split('\n').sort());
  });

  it('install then removal restores any file that did not carry the key (property)', () => {
    const others = mixed.split('\n').filter((l) => !l.includes(ed.blob));
    const text = fc.tuple(fc.array(fc.oneof(fc.constantFrom(...others), fc.string()), { maxLength: 12 }), fc.boolean()).map(([ls, nl]) => ls.join('\n') + (nl && ls.length ? '\n' : ''));
    fc.assert(
      fc.property(text, (t) => {
        fc.pre(!t.includes(ed.blob));
        const plan = planKeyInstall(t, ed, spec);
        expect(plan.action).toBe('added');
        expect(planKeyInstall(plan.text, ed, spec).action).toBe('unchanged');
        expect(planKeyRemoval(plan.text, plan.line, plan.replaced, plan.addedTrailingNewline).text).toBe(t);
      }),
    );
  });

  it('only removes a line that is still exactly what install wrote', () => {
    const plan = planKeyInstall('', ed, spec);
    const edited = plan.text.replace('restrict,', 'restrict,no-pty,');
    expect(planKeyRemoval(edited, plan.line, [])).toEqual({ text: edited, changed: false });
  });

  it('lists the keys forced-commands-only would shut out', () => {
    expect(keysWithoutCommand(mixed).map((l) => l.key.comment)).toEqual(['admin@laptop', 'monitoring@example.net', 'env@example.net', 'ca@example.net', 'no-trailing-newline']);
  });
});
