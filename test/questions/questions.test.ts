// rsync-time-backup's `test -e PATH` and `df -T PATH`, answered by the gate:
// the words recognised, the decision (a pull of that path), df's layout.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { realFs } from '../../src/facts.js';
import type { Facts } from '../../src/decide.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import type { Session } from '../../src/session.js';
import { formatDf, mountOf, parseMountinfo, parseQuestion } from '../../src/questions/parse.js';
import { answerQuestion } from '../../src/gate/questions.js';
import { policy, useTree } from '../helpers/policy.js';

const tree = useTree();
const session = (cmd: string, addr = '192.0.2.10'): Session => ({ originalCommand: cmd, client: { addr, port: 40000 }, server: null, user: 'root', userAuthFile: null });
const facts: Facts = { fs: realFs, confineRootSupported: false, now: Date.now() };
const ask = (cmd: string, input: PolicyInput = {}, addr?: string) => answerQuestion(session(cmd, addr), policy({ root: tree.root(), ...input }), facts);

describe('the words', () => {
  it('exactly `test -e PATH` and `df -T PATH`', () => {
    expect(parseQuestion(['test', '-e', '/x'])).toEqual({ kind: 'test-e', path: '/x' });
    expect(parseQuestion(['df', '-T', '/x y'])).toEqual({ kind: 'df-T', path: '/x y' });
    for (const w of [['test', '-f', '/x'], ['test', '-e'], ['test', '-e', '/x', '/y'], ['df', '-h', '/x'], ['df', '-T'], ['/usr/bin/test', '-e', '/x'], ['[', '-e', '/x', ']']]) expect(parseQuestion(w)).toBeNull();
  });
  it('anything else is not a question: the gate decides it as usual (and refuses it)', () => {
    expect(ask('test -f /data')).toBeNull();
    expect(ask('df -h /data')).toBeNull();
    expect(ask('test -e /data; id')).toBeNull();
    expect(ask('df -T $(id)')).toBeNull();
  });
});

describe('test -e, decided as a pull of the path', () => {
  it('0 for a path under root, 1 for a missing one, nothing on stdout; "/x" means root/x', () => {
    expect(ask('test -e /data/file.c')).toMatchObject({ verdict: 'answer', code: 0, stdout: '', stderr: '' });
    expect(ask(`test -e ${tree.root()}/data/file.c`)).toMatchObject({ verdict: 'answer', code: 0 });
    expect(ask('test -e /data/nothing')).toMatchObject({ verdict: 'answer', code: 1, stdout: '', stderr: '' });
    expect(ask('test -e /nowhere/at/all')).toMatchObject({ verdict: 'answer', code: 1 });
    // As sh's test and GNU df answer an empty name (rsync_tmbackup.sh sends df -T '' for a source "/").
    expect(ask("test -e ''")).toMatchObject({ verdict: 'answer', code: 1, stdout: '' });
    expect(ask("df -T ''")).toMatchObject({ verdict: 'answer', code: 1, stdout: '', stderr: "df: '': No such file or directory\n" });
    expect(ask("test -e ''", { access: 'write-only' })).toMatchObject({ verdict: 'deny', code: 'access' });
  });
  it('quoting as rsync_tmbackup.sh sends it (and as sh reads it)', () => {
    expect(ask("test -e '/a b/'")).toMatchObject({ verdict: 'answer', code: 0 });
    expect(ask('test -e "/a b/f"')).toMatchObject({ verdict: 'answer', code: 0 });
    expect(ask("test -e '/x/$y;z'")).toMatchObject({ verdict: 'answer', code: 0 });
    expect(ask('test -e /a\\ b')).toMatchObject({ verdict: 'answer', code: 0 });
  });
  it('a symlink out of root and ".." are refused, as for rsync paths', () => {
    expect(ask('test -e /outlink/secret')).toMatchObject({ verdict: 'deny', code: 'path-outside-root', status: 77 });
    expect(ask('test -e /outlink')).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    expect(ask('test -e /data/../../outside/secret')).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    expect(ask('test -e /inlink/file.c')).toMatchObject({ verdict: 'answer', code: 0 });
  });
  it('refused under a write-only or a daemon policy, from an address not in `from`, outside the window', () => {
    expect(ask('test -e /data', { access: 'write-only' })).toMatchObject({ verdict: 'deny', code: 'access', status: 77 });
    expect(ask('test -e /data', { daemon: { config: '/etc/rsyncd.conf' } })).toMatchObject({ verdict: 'deny', code: 'daemon-only', status: 77 });
    expect(ask('df -T /data', { access: 'write-only' })).toMatchObject({ verdict: 'deny', code: 'access' });
    expect(ask('test -e /data', { from: ['198.51.100.0/24'] })).toMatchObject({ verdict: 'deny', code: 'from' });
    expect(ask('test -e /data', { from: ['192.0.2.0/24'] })).toMatchObject({ verdict: 'answer', code: 0 });
    expect(ask('test -e /data', { access: 'read-write' })).toMatchObject({ verdict: 'answer', code: 0 });
  });
  it('a permissive policy answers and records what it waived', () => {
    expect(ask('test -e /data', { from: ['198.51.100.0/24'], enforce: false })).toMatchObject({ verdict: 'answer', code: 0, wouldDeny: expect.stringContaining('"from"') });
  });
  it('a missing root is a configuration error (78)', () => {
    expect(answerQuestion(session('test -e /x'), policy({ root: `${tree.root()}/missing` }), facts)).toMatchObject({ verdict: 'deny', code: 'config', status: 78 });
  });
});

describe('df -T', () => {
  it('the same table as GNU df for a path (whole-system policy, /proc: its numbers do not move)', () => {
    for (const p of ['/proc', '/proc/self']) {
      const a = answerQuestion(session(`df -T '${p}'`), policy({ root: '/' }), facts);
      expect(a).toMatchObject({ verdict: 'answer', code: 0, stderr: '' });
      expect(a?.verdict === 'answer' && a.stdout).toBe(execFileSync('/usr/bin/df', ['-T', p], { encoding: 'utf8', env: { LANG: 'C' } }));
    }
  });
  it('under a root: the mount of the path, the Type column rsync_tmbackup.sh reads', () => {
    const a = ask("df -T '/data'");
    expect(a).toMatchObject({ verdict: 'answer', code: 0 });
    const df = execFileSync('/usr/bin/df', ['-T', `${tree.root()}/data`], { encoding: 'utf8', env: { LANG: 'C' } });
    const cols = (s: string) => s.split('\n')[1]!.split(/ +/);
    const [ours, theirs] = [cols(a?.verdict === 'answer' ? a.stdout : ''), cols(df)];
    expect([ours[0], ours[1], ours[6]]).toEqual([theirs[0], theirs[1], theirs[6]]);
    expect(a?.verdict === 'answer' && a.stdout.split('\n')[0]).toBe(df.split('\n')[0]);
  });
  it('a missing path: df\'s message and status 1, nothing on stdout', () => {
    expect(ask("df -T '/data/nothing'")).toMatchObject({ verdict: 'answer', code: 1, stdout: '', stderr: "df: '/data/nothing': No such file or directory\n" });
  });
  it('GNU df\'s layout: minimum widths, 1K blocks rounded up, Use% rounded up, "-" for an empty file system', () => {
    const m = { source: '/dev/sda1', fstype: 'vfat', mountPoint: '/mnt/usb stick' };
    expect(formatDf(m, { bsize: 512, blocks: 1001, bfree: 500, bavail: 400 })).toBe(
      ['Filesystem     Type 1K-blocks  Used Available Use% Mounted on', '/dev/sda1      vfat       501   251       200  56% /mnt/usb stick', ''].join('\n'),
    );
    expect(formatDf({ source: 'a-very-long-source-name:/export', fstype: 'nfs4', mountPoint: '/n' }, { bsize: 4096, blocks: 0, bfree: 0, bavail: 0 })).toBe(
      ['Filesystem                      Type 1K-blocks  Used Available Use% Mounted on', 'a-very-long-source-name:/export nfs4         0     0         0    - /n', ''].join('\n'),
    );
  });
});

describe('the mount of a path', () => {
  const info = [
    '22 1 0:21 / / rw - ext4 /dev/vda rw',
    '23 22 0:22 / /srv rw shared:1 - xfs /dev/vdb rw',
    '24 23 0:23 / /srv/my\\040data rw - tmpfs tmp\\040fs rw',
    '25 23 0:24 / /srv rw - btrfs /dev/vdc rw',
    'garbage',
  ].join('\n');
  const mounts = parseMountinfo(info);
  it('reads mountinfo (optional fields, \\ooo escapes)', () => {
    expect(mounts).toHaveLength(4);
    expect(mounts[2]).toEqual({ mountPoint: '/srv/my data', fstype: 'tmpfs', source: 'tmp fs' });
  });
  it('the longest mount point containing the path; of two on the same point, the later', () => {
    expect(mountOf('/srv/my data/x', mounts)?.fstype).toBe('tmpfs');
    expect(mountOf('/srv/my datax', mounts)?.fstype).toBe('btrfs');
    expect(mountOf('/srv', mounts)?.fstype).toBe('btrfs');
    expect(mountOf('/srvx', mounts)?.fstype).toBe('ext4');
  });
});

describe('the answer event in the log', () => {
  const base = { v: 2, policy: 'p', session: 'abc', pid: 1, user: 'root', client: null, server: null, command: "test -e '/x'", argv: null };
  it('a version 2 line with event answer parses; audit labels it and filters by it', async () => {
    const { parseRecordLine } = await import('../../src/log/record.js');
    const { decisionLabel } = await import('../../src/audit/views/format.js');
    const { buildFilter } = await import('../../src/audit/filter.js');
    const r = parseRecordLine(JSON.stringify({ level: 30, time: 1795698000000, hostname: 'h', ...base, event: 'answer', code: 'test-e', status: 1, msg: 'allowed: test -e answered by the gate (nothing runs): /x does not exist' }));
    expect(r).toMatchObject({ event: 'answer', code: 'test-e', status: 1 });
    expect(decisionLabel(r as never).text).toBe('answer');
    expect(buildFilter({ decision: ['answer'] }, 1795698000000).test(r as never, 1795698000000)).toBe(true);
    expect(buildFilter({ decision: ['deny'] }, 1795698000000).test(r as never, 1795698000000)).toBe(false);
  });
  it('old lines still parse (version 1, and version 2 events from before)', async () => {
    const { parseRecordLine } = await import('../../src/log/record.js');
    expect(parseRecordLine(JSON.stringify({ level: 30, time: 1795698000000, hostname: 'h', ...base, event: 'allow', msg: 'allowed' }))).toMatchObject({ event: 'allow' });
    expect(parseRecordLine(JSON.stringify({ ...base, v: 1, time: '2026-01-01T00:00:00.000Z', level: 'info', event: 'deny', reason: 'refused' }))).toMatchObject({ v: 1, event: 'deny' });
  });
});

describe('the rsync path stays lean', () => {
  it('the gate\'s main chunk only names the questions chunk, which holds the mountinfo and df code', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const chunks = join(import.meta.dirname, '..', '..', 'dist', 'chunks');
    const names = readdirSync(chunks);
    const main = names.filter((n) => /^gate-main-.*\.cjs$/.test(n));
    const questions = names.filter((n) => /^gate-questions-.*\.cjs$/.test(n));
    expect(main, 'run npm run build first').toHaveLength(1);
    expect(questions).toHaveLength(1);
    const mainText = readFileSync(join(chunks, main[0]!), 'utf8');
    expect(mainText).toContain(`require("./${questions[0]}")`);
    expect(mainText).not.toContain('mountinfo');
    expect(mainText).not.toContain('1K-blocks');
    expect(readFileSync(join(chunks, questions[0]!), 'utf8')).toContain('/proc/self/mountinfo');
  });
});
