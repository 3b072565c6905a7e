import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  authorizedKeysFiles,
  canonicalPermitRootLogin,
  dropInDirs,
  globMatch,
  parseSshdConfig,
  printSshdConfig,
  splitArgs,
} from '../../src/sshd/config.js';
import { effectivePermitRootLogin, parseSshdVersion, sshdEffective, sshdTest, supportsRestrict } from '../../src/sshd/run.js';
import { planSshdChange, planSshdRevert, WANTED } from '../../src/install/sshd-plan.js';
import { SHAPES, SHAPES_DIR, hostKey, instantiate, type Shape } from './shapes.js';

const SSHD = '/usr/sbin/sshd';
const tmp = mkdtempSync(join(tmpdir(), 'gk-sshdcfg-'));
const key = hostKey(tmp);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (shape: Shape) => instantiate(shape, join(tmp, `${shape}-${n++}`), key);

describe('sshd_config parser', () => {
  it('prints any text back byte for byte (property)', () => {
    const fixtures = SHAPES.map((s) => readFileSync(join(SHAPES_DIR, s, 'sshd_config'), 'utf8'));
    // Line ends of every kind (LF, CRLF, a lone CR), tabs, quotes, comments
    // and keywords with "=", in any order, and the fixtures with CRLF ends.
    const piece = fc.constantFrom('\n', '\r\n', '\r', '\t', ' ', '#', '"', "'", '\\', '=', 'PermitRootLogin', 'Match', 'User', 'Include', 'yes', 'a', '\u00e9', '\u0000');
    const lineText = fc.constantFrom('PermitRootLogin yes', '\tPermitRootLogin=no', 'Match User x', '  Match all', '# comment', '', 'Include conf.d/*.conf', 'Subsystem "sftp" /x # c', '\t\t');
    const eol = fc.constantFrom('\n', '\r\n', '\r', '\n\r', '');
    const config = fc.array(fc.tuple(lineText, eol), { maxLength: 12 }).map((ls) => ls.map(([l, e]) => l + e).join(''));
    const texts = fc.oneof(
      fc.string(),
      fc.string({ unit: piece, maxLength: 60 }),
      config,
      fc.constantFrom(...fixtures, ...fixtures.map((f) => f.replaceAll('\n', '\r\n'))),
    );
    let withControl = 0;
    fc.assert(
      fc.property(texts, (text) => {
        if (/[\r\n\t]/.test(text)) withControl++;
        expect(printSshdConfig(parseSshdConfig(text))).toBe(text);
      }),
      { numRuns: 1000 },
    );
    expect(withControl, 'inputs with a newline, CR or tab').toBeGreaterThan(300);
  });

  it('reads odd spellings as sshd does', () => {
    const lines = parseSshdConfig(readFileSync(join(SHAPES_DIR, 'odd-spellings', 'sshd_config'), 'utf8'));
    const kw = lines.filter((l) => l.kw).map((l) => [l.kw, l.args, l.match]);
    expect(kw).toEqual([
      ['passwordauthentication', ['no'], -1],
      ['permitrootlogin', ['without-password'], -1],
      ['permitrootlogin', ['yes'], -1],
      ['subsystem', ['sftp', '/usr/lib/openssh/sftp-server'], -1],
      ['match', ['user', 'backup'], 6],
      ['x11forwarding', ['no'], 6],
    ]);
  });

  it.each([
    ['a b  c', ['a', 'b', 'c']],
    ['"a b" c', ['a b', 'c']],
    ["'x y'", ['x y']],
    ['a # comment', ['a']],
    ['a#b', ['a#b']],
    ['"a \\" b"', ['a " b']],
  ])('splits arguments %s', (s, want) => expect(splitArgs(s)).toEqual(want));

  it('finds drop-in directories from the Include lines', () => {
    const deb = parseSshdConfig(readFileSync(join(SHAPES_DIR, 'debian', 'sshd_config'), 'utf8'));
    expect(dropInDirs(deb).map((d) => [d.dir, d.pattern, d.line.lineNo])).toEqual([['/etc/ssh/sshd_config.d', '*.conf', 12]]);
    expect(dropInDirs(parseSshdConfig('Include conf.d/*.conf /etc/x.conf\n'))).toMatchObject([{ dir: '/etc/ssh/conf.d', pattern: '*.conf' }]);
    // An Include inside a Match block is conditional: not a place for a global setting.
    expect(dropInDirs(parseSshdConfig('Match User x\nInclude /etc/ssh/d/*.conf\n'))).toEqual([]);
    expect(dropInDirs(parseSshdConfig(readFileSync(join(SHAPES_DIR, 'no-include', 'sshd_config'), 'utf8')))).toEqual([]);
  });

  it.each([
    ['*.conf', '00-gatekeeper.conf', true],
    ['*.conf', '00-gatekeeper', false],
    ['*', '00-gatekeeper', true],
    ['*', '.hidden', false],
    ['[0-9]*.conf', '00-gatekeeper.conf', true],
    ['[!0-9]*.conf', '00-gatekeeper.conf', false],
    ['??-*.conf', '00-gatekeeper.conf', true],
  ])('glob %s matches %s: %s', (p, name, want) => expect(globMatch(p, name)).toBe(want));

  it('expands AuthorizedKeysFile tokens', () => {
    const u = { name: 'backup', uid: 990, home: '/var/backup' };
    expect(authorizedKeysFiles('.ssh/authorized_keys .ssh/authorized_keys2', u)).toEqual(['/var/backup/.ssh/authorized_keys', '/var/backup/.ssh/authorized_keys2']);
    expect(authorizedKeysFiles('/etc/ssh/keys/%u %h/k %U %%', u)).toEqual(['/etc/ssh/keys/backup', '/var/backup/k', '/var/backup/990', '/var/backup/%']);
    expect(authorizedKeysFiles('none', u)).toEqual([]);
  });

  it('compares PermitRootLogin values as sshd means them', () => {
    expect(canonicalPermitRootLogin('Without-Password')).toBe('prohibit-password');
    expect(canonicalPermitRootLogin('forced-commands-only')).toBe(WANTED);
  });

  it('reads sshd versions', () => {
    expect(parseSshdVersion('OpenSSH_9.2p1 Debian-2, OpenSSL 3.0')).toMatchObject({ major: 9, minor: 2 });
    expect(supportsRestrict(parseSshdVersion('OpenSSH_7.1p2'))).toBe(false);
    expect(supportsRestrict(parseSshdVersion('OpenSSH_7.2p1'))).toBe(true);
  });
});

// What the real sshd says about each shape, before and after the planned change.
const before: Record<Shape, { global: string; root: string }> = {
  debian: { global: 'prohibit-password', root: 'prohibit-password' },
  rhel: { global: 'yes', root: 'yes' },
  'no-include': { global: 'no', root: 'no' },
  'ends-in-match': { global: 'prohibit-password', root: 'prohibit-password' },
  'match-root': { global: 'prohibit-password', root: 'yes' },
  'odd-spellings': { global: 'prohibit-password', root: 'prohibit-password' },
};
const where: Record<Shape, string> = {
  debian: 'dropin',
  rhel: 'dropin',
  'no-include': 'replaced',
  'ends-in-match': 'inserted',
  'match-root': 'replaced',
  'odd-spellings': 'replaced',
};
const root = { user: 'root', host: 'localhost', addr: '127.0.0.1' };

describe.each(SHAPES)('real sshd on the %s shape', (shape) => {
  it('plans the change where sshd will obey it, and sshd -t/-T agree', async () => {
    const main = fresh(shape);
    expect((await sshdTest(SSHD, main)).ok).toBe(true);
    const g0 = await sshdEffective(SSHD, main);
    const r0 = await sshdEffective(SSHD, main, root);
    if ('error' in g0 || 'error' in r0) throw new Error('sshd -T failed');
    expect(effectivePermitRootLogin(g0)).toBe(before[shape].global);
    expect(effectivePermitRootLogin(r0)).toBe(before[shape].root);

    const original = readFileSync(main, 'utf8');
    const plan = planSshdChange(main, original);
    expect(plan.kind === 'dropin' ? 'dropin' : plan.mode).toBe(where[shape]);
    if (plan.kind === 'dropin') {
      expect(plan.path).toBe(join(main, '..', 'sshd_config.d', '00-gatekeeper.conf'));
      writeFileSync(plan.path, plan.content);
    } else {
      // Only the planned lines differ; the rest is byte for byte the same.
      const a = original.split('\n');
      const b = plan.text.split('\n');
      if (plan.mode === 'replaced') {
        expect(b.length).toBe(a.length);
        expect(a.filter((l, i) => l !== b[i])).toEqual([plan.original]);
      } else {
        expect(b.length).toBe(a.length + plan.written.length);
        expect(b.slice(plan.index, plan.index + plan.written.length)).toEqual(plan.written);
        // Right before the first Match block: the next line is that Match, and none comes earlier.
        expect(b[plan.index + plan.written.length], 'the line after the inserted ones').toMatch(/^\s*match\s/i);
        expect(b.slice(0, plan.index).filter((l) => /^\s*match\s/i.test(l))).toEqual([]);
      }
      writeFileSync(main, plan.text);
    }
    expect((await sshdTest(SSHD, main)).ok).toBe(true);
    const g1 = await sshdEffective(SSHD, main);
    const r1 = await sshdEffective(SSHD, main, root);
    if ('error' in g1 || 'error' in r1) throw new Error('sshd -T failed');
    expect(effectivePermitRootLogin(g1)).toBe(WANTED);
    // A Match User root block still wins for root: install must refuse that shape.
    expect(effectivePermitRootLogin(r1)).toBe(shape === 'match-root' ? 'yes' : WANTED);

    if (plan.kind === 'edit') expect(planSshdRevert(plan.text, plan)).toBe(original);
  });
});

describe('planning edge cases', () => {
  it('never appends a global keyword after a Match block', () => {
    const text = 'PasswordAuthentication no\nMatch User x\n\tX11Forwarding no';
    const plan = planSshdChange('/x', text);
    expect(plan.kind === 'edit' && plan.text).toBe(
      'PasswordAuthentication no\n# Added by gatekeeper install; `gatekeeper uninstall --all` removes it.\nPermitRootLogin forced-commands-only\nMatch User x\n\tX11Forwarding no',
    );
  });
  it('ends a last line without newline before appending, and takes that back on revert', () => {
    const text = 'PasswordAuthentication no';
    const plan = planSshdChange('/x', text);
    if (plan.kind !== 'edit') throw new Error('expected an edit');
    expect(plan.text).toBe(`PasswordAuthentication no\n# Added by gatekeeper install; \`gatekeeper uninstall --all\` removes it.\nPermitRootLogin ${WANTED}\n`);
    expect(planSshdRevert(plan.text, plan)).toBe(text);
  });
  it('edits the main file when it sets PermitRootLogin before the Include', () => {
    const plan = planSshdChange('/x', 'PermitRootLogin no\nInclude /etc/ssh/sshd_config.d/*.conf\n');
    expect(plan).toMatchObject({ kind: 'edit', mode: 'replaced', original: 'PermitRootLogin no' });
  });
  it('uses a drop-in whose name matches the Include pattern', () => {
    expect(planSshdChange('/x', 'Include /etc/ssh/conf.d/*\n')).toMatchObject({ kind: 'dropin', path: '/etc/ssh/conf.d/00-gatekeeper.conf' });
    // *.cfg cannot hold 00-gatekeeper.conf: edit the main file instead.
    expect(planSshdChange('/x', 'Include /etc/ssh/conf.d/*.cfg\n')).toMatchObject({ kind: 'edit', mode: 'inserted' });
  });
  it('reverts nothing when the written line is gone', () => {
    expect(planSshdRevert('PermitRootLogin no\n', { mode: 'replaced', original: 'PermitRootLogin no', written: ['PermitRootLogin forced-commands-only'], addedTrailingNewline: false })).toBeNull();
  });
});
