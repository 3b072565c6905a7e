import { describe, expect, it } from 'vitest';
import { parseServerArgs } from '../../src/rsync/grammar.js';
import { ALWAYS_REFUSED, LONG_OPTIONS, SHORT_OPTIONS } from '../../src/rsync/options.js';

const words = (s: string) => s.split(' ');

describe('parseServerArgs: well-formed server calls', () => {
  it('parses the original setup pull', () => {
    const r = parseServerArgs(words('rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /'));
    expect(r.ok).toBe(true);
    if (!r.ok || r.command.kind !== 'server') throw new Error('expected a server command');
    expect(r.command.sender).toBe(true);
    expect(r.command.capabilities).toBe('.iLsfxCIvu');
    expect(r.command.paths).toEqual(['/']);
    expect(r.command.options.map((o) => o.spec.name)).toEqual(['-v', '-l', '-o', '-g', '-D', '-t', '-p', '-r', '-x', '-z', '--numeric-ids']);
  });
  it.each([
    'rsync --server --sender -vlogDtpr . /x', // --protocol=29: no capability string
    'rsync --server --sender -e.iLsfx . /x', // older client, only the capability string
    'rsync --server --sender -vlogDtpre.iLsfxC . /x',
    'rsync --server --sender -vlogDtpre31.2iLsfxCIvu . /x', // pre-release sub-protocol
    'rsync --server -vlogDtpre.iLsfxCIvu -B8192 --bwlimit=100 --timeout 30 . /dst/',
    'rsync --server --sender -vlogDtpre.iLsfxCIvu -@-1 --modify-window=2 . /x',
    'rsync --server -vblogDtpre.iLsfxCIvu --backup-dir /bk --delete . /dst/',
    '/usr/local/bin/rsync --server --sender -v . a b c',
    'rsync --server --sender -v --files-from=- --from0 --no-relative . /',
    'rsync --server --sender -v --log-format=%i%I . /x',
  ])('%s', (s) => {
    expect(parseServerArgs(words(s)).ok).toBe(true);
  });
  it('parses daemon over ssh', () => {
    expect(parseServerArgs(words('rsync --server --daemon .'))).toEqual({ ok: true, command: { kind: 'daemon', program: 'rsync' } });
  });
  it('keeps "--opt value" values', () => {
    const r = parseServerArgs(words('rsync --server -v --backup-dir /bk . /dst'));
    if (!r.ok || r.command.kind !== 'server') throw new Error('expected a server command');
    expect(r.command.options.find((o) => o.spec.name === '--backup-dir')?.value).toBe('/bk');
  });
});

describe('parseServerArgs: refusals', () => {
  const cases: [string, string, RegExp][] = [
    ['id', 'not-rsync', /only rsync/],
    ['sudo rsync --server . /', 'not-rsync', /only rsync/],
    ['/tmp/evil --server . /', 'not-rsync', /only rsync/],
    ['/usr/bin/rsync2 --server . /', 'not-rsync', /only rsync/],
    ['rsync -av /etc host:/x', 'not-server', /--server/],
    ['rsync --sender --server -v . /', 'not-server', /--server/],
    ['rsync --server --sender --sender -v . /', 'syntax', /--sender/],
    ['rsync --server -v --sender . /', 'syntax', /--sender/],
    ['rsync --server --sender -v . / --log-file=/tmp/x', 'syntax', /after the "\." separator/],
    ['rsync --server --sender -v', 'syntax', /separator/],
    ['rsync --server --sender -vs . /', 'always-refused', /-s is always refused.*stdin/],
    ['rsync --server --sender -svlogDtpre.iLsfxCIvu', 'always-refused', /-s/],
    ['rsync --server --sender --protect-args -v . /', 'always-refused', /protect-args/],
    ['rsync --server --sender --secluded-args -v . /', 'always-refused', /secluded/],
    ['rsync --server --sender -v --log-file=/tmp/x . /', 'always-refused', /--log-file/],
    ['rsync --server --sender -v --log-file /tmp/x . /', 'always-refused', /--log-file/],
    ['rsync --server --sender -v --log-file-format=%f . /', 'always-refused', /--log-file-format/],
    ['rsync --server -v --write-devices . /', 'always-refused', /write-devices/],
    ['rsync --server --sender -v --copy-devices . /', 'always-refused', /copy-devices/],
    ['rsync --server --sender -v --debug=ALL . /', 'always-refused', /--debug/],
    ['rsync --server --sender -v --no-munge-links . /', 'always-refused', /munge/],
    ['rsync --server --sender -v --config=/tmp/x . /', 'always-refused', /--config/],
    ['rsync --server --sender -v --dparam=x=y . /', 'always-refused', /dparam/],
    ['rsync --server --sender -M--log-file=/x . /', 'always-refused', /-M/],
    ['rsync --server --sender -e sh . /', 'always-refused', /-e is refused/],
    ['rsync --server --sender -e . /', 'always-refused', /-e is refused/],
    ['rsync --server --sender -vfe.iLs . /', 'unknown-option', /-f/],
    ['rsync --server --sender -T/tmp . /', 'unknown-option', /-T/],
    ['rsync --server --sender -B=1024e.iLs . /', 'syntax', /-B takes a number/],
    ['rsync --server --sender -vB1024 . /', 'syntax', /must stand alone/],
    ['rsync --server --sender --del . /', 'unknown-option', /abbreviations/],
    ['rsync --server --sender --DELETE . /', 'unknown-option', /case-sensitive/],
    ['rsync --server --sender \uff0d\uff0ddelete . /', 'syntax', /not an option/],
    ['rsync --server --sender --timeout=abc . /', 'syntax', /number/],
    ['rsync --server --sender --numeric-ids=1 . /', 'syntax', /takes no value/],
    ['rsync --server --daemon --config=/tmp/x .', 'always-refused', /--config/],
    ['rsync --server --daemon . extra', 'syntax', /daemon-over-ssh/],
    ['rsync --server --sender -v --rsync-path=/bin/sh . /', 'always-refused', /rsync-path/],
    ['rsync --server --sender -v --confine-root=/ . /', 'always-refused', /confine-root/],
    ['rsync --server --sender -v -- . /', 'syntax', /"--"/],
  ];
  it.each(cases)('%s', (s, code, reason) => {
    const r = parseServerArgs(s.split(' '));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.reason).toMatch(reason);
    }
  });
});

describe('option table', () => {
  it('has unique names and every entry has a reason', () => {
    const names = [...SHORT_OPTIONS, ...LONG_OPTIONS].map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    for (const o of [...SHORT_OPTIONS, ...LONG_OPTIONS]) expect(o.why.length).toBeGreaterThan(3);
  });
  it('refuses what rrsync disables and what the issue lists', () => {
    for (const name of ['-s', '--protect-args', '--secluded-args', '--log-file', '--log-file-format', '--write-devices', '--copy-devices', '--debug', '--no-munge-links', '--config', '--dparam', '--daemon']) {
      expect(ALWAYS_REFUSED).toContain(name);
    }
  });
  it('every always-refused long option is refused in both --opt=val and --opt val forms', () => {
    for (const o of LONG_OPTIONS.filter((x) => x.risk === 'refused' && !['--server', '--sender', '--daemon'].includes(x.name))) {
      const forms = o.arg === 'none' ? [[o.name]] : [[`${o.name}=/tmp/x`], [o.name, '/tmp/x']];
      for (const f of forms) {
        const r = parseServerArgs(['rsync', '--server', '--sender', '-v', ...f, '.', '/']);
        // Refused for being this option, not for some other reason (a syntax error would also say ok: false).
        expect(r, f.join(' ')).toMatchObject({ ok: false, code: 'always-refused', option: o.name });
        expect(r.ok === false && r.reason, f.join(' ')).toMatch(new RegExp(`^option ${o.name} is always refused: `));
      }
    }
  });
});

// Whole refusals, the option they name included (audit --suggest and the
// log read it), for the shapes the broader cases above only match by reason.
describe('parseServerArgs: refusals, exactly', () => {
  const refusal = (s: string) => parseServerArgs(s.split(' '));
  it.each([
    ['true x', { code: 'not-rsync' }],
    ['rsync --server --daemon', { code: 'syntax' }],
    ['rsync --server --daemon /etc', { code: 'syntax', option: '/etc' }],
    ['rsync --server --daemon --config=/tmp/x', { code: 'always-refused', option: '--config' }],
    ['rsync --server --sender - . /', { code: 'syntax' }],
    ['rsync --server --sender -v-B5 . /', { code: 'unknown-option', option: '--' }],
    ['rsync --server --sender -v . / --rsh=x', { code: 'syntax', option: '--rsh' }],
    ['rsync --server --sender --nope . /', { code: 'unknown-option', option: '--nope' }],
    ['rsync --server --sender --server . /', { code: 'syntax', option: '--server' }],
    ['rsync --server --sender -v --sender . /', { code: 'syntax', option: '--sender' }],
    ['rsync --server --sender -v -s . /', { code: 'always-refused', option: '-s' }],
  ])('%s', (s, expected) => {
    const r = refusal(s);
    expect(r).toMatchObject({ ok: false, code: expected.code });
    if ('option' in expected) expect(r).toHaveProperty('option', expected.option);
  });
  it('a letter the table does not know is named, with the cluster it came in; one known only as a refused long option\'s is refused as that option', () => {
    expect(refusal('rsync --server --sender -T/tmp . /')).toEqual({ ok: false, code: 'unknown-option', reason: 'option -T (in "-T/tmp") is not one an rsync client sends to a server', option: '-T' });
    expect(refusal('rsync --server --sender -vM . /')).toMatchObject({ ok: false, code: 'always-refused', reason: expect.stringMatching(/^option -M is always refused/), option: '--remote-option' });
    expect(refusal('rsync --server --sender -vj . /')).toEqual({ ok: false, code: 'unknown-option', reason: 'option -j (in "-vj") is not one an rsync client sends to a server', option: '-j' });
  });
});
