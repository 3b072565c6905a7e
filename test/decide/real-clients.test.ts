// Table-driven: real rsync client command lines (recorded from /usr/bin/rsync
// itself), each judged by the gate and by rrsync with the equivalent flags.
// The verdicts must agree unless a case names a deliberate difference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/evaluate.js';
import { realFacts } from '../../src/facts.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { cleanupClients, recordClientCommand, rrsyncVerdict } from '../helpers/clients.js';
import { makeTree, policy, tempDir } from '../helpers/policy.js';

type Kind = 'ro' | 'wo' | 'wo-del' | 'rw' | 'ro-munge' | 'wo-noover';

const policies: Record<Kind, { input: (root: string) => PolicyInput; rrsync: string[] }> = {
  ro: { input: (root) => ({ access: 'read-only', root }), rrsync: ['-ro'] },
  wo: { input: (root) => ({ access: 'write-only', root }), rrsync: ['-wo', '-no-lock', '-no-del'] },
  'wo-del': { input: (root) => ({ access: 'write-only', root, delete: true }), rrsync: ['-wo', '-no-lock'] },
  rw: { input: (root) => ({ access: 'read-write', root, delete: true }), rrsync: ['-no-lock'] },
  'ro-munge': { input: (root) => ({ access: 'read-only', root, mungeLinks: true }), rrsync: ['-ro', '-munge'] },
  'wo-noover': { input: (root) => ({ access: 'write-only', root, overwrite: false }), rrsync: ['-wo', '-no-lock', '-no-del', '-no-overwrite'] },
};

interface Case {
  name: string;
  /** Client arguments; "H:" marks the remote side; SRC is a local directory. */
  args?: string[];
  /** Or the command itself, when no client produces it. */
  command?: string;
  policy: Kind;
  expect: 'allow' | 'deny';
  /** Set when the gate deliberately differs from rrsync, with why. */
  differs?: string;
}

const cases: Case[] = [
  { name: 'the original setup pull', args: ['-avzx', '--numeric-ids', '--delete', '--progress', 'H:/', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'dry run with hard links, path with a space', args: ['-avzxH', '-n', 'H:/a b/', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'path with $ and ;', args: ['-av', 'H:/x/$y;z', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: '--protocol=29 (no capability string)', args: ['-av', '--protocol=29', 'H:/data', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'glob inside root', args: ['-av', 'H:/data/*.c', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'several sources', args: ['-av', 'H:/data/file.c', 'H:/a b/f', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: '--old-args splits on spaces', args: ['-av', '--old-args', 'H:/data/file.c /data/other.c', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: '-R with /./', args: ['-avR', 'H:/data/./file.c', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'local --files-from', args: ['-av', '--files-from=locallist', 'H:/', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'remote --files-from inside root', args: ['-av', '--files-from=:/list', 'H:/', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'symlink inside root', args: ['-av', 'H:/inlink/', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'compression and limits', args: ['-avz', '--bwlimit=100', '--timeout=30', '--block-size=8192', '--max-size=1M', 'H:/data', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'itemize, stats, numeric ids', args: ['-avni', '--stats', '--numeric-ids', 'H:/data', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'iconv', args: ['-av', '--iconv=utf8,latin1', 'H:/data', 'dst/'], policy: 'ro', expect: 'allow' },
  { name: 'pull with munge policy', args: ['-av', 'H:/data', 'dst/'], policy: 'ro-munge', expect: 'allow' },
  { name: 'connectivity check', command: 'true', policy: 'ro', expect: 'allow' },
  // What older clients send (rsync 3.0 / 3.1 capability strings).
  { name: 'older client, capability string e.iLsfx', command: 'rsync --server --sender -vlogDtpre.iLsfx --numeric-ids . /data', policy: 'ro', expect: 'allow' },
  { name: 'older client, capability string e.iLsfxC', command: 'rsync --server --sender -vlogDtpre.iLsfxC . /data/', policy: 'ro', expect: 'allow' },
  { name: 'older client push, capability string e.iLsfxC', command: 'rsync --server -vlogDtpre.iLsfxC . /dst/', policy: 'wo', expect: 'allow' },
  { name: 'push', args: ['-av', 'SRC/', 'H:/dst/'], policy: 'wo', expect: 'allow' },
  { name: 'push with --mkpath into a new directory', args: ['-av', '--mkpath', 'SRC/', 'H:/dst/new/deeper/'], policy: 'wo', expect: 'allow' },
  { name: 'push with --temp-dir inside root', args: ['-av', '--temp-dir=/bk', 'SRC/', 'H:/dst/'], policy: 'wo', expect: 'allow' },
  { name: 'push with --link-dest inside root', args: ['-av', '--link-dest=/bk', 'SRC/', 'H:/dst/'], policy: 'wo', expect: 'allow' },
  { name: 'push with --delete, deletion allowed', args: ['-av', '--delete', '--max-delete=10', 'SRC/', 'H:/dst/'], policy: 'wo-del', expect: 'allow' },
  { name: 'push with backups', args: ['-av', '-b', '--backup-dir=/bk', 'SRC/', 'H:/dst/'], policy: 'wo', expect: 'allow' },
  { name: 'read-write pull', args: ['-av', 'H:/data', 'dst/'], policy: 'rw', expect: 'allow' },
  { name: 'read-write push with delete', args: ['-av', '--delete', 'SRC/', 'H:/dst/'], policy: 'rw', expect: 'allow' },
  // Refusals.
  { name: 'push to a read-only policy', args: ['-av', 'SRC/', 'H:/dst/'], policy: 'ro', expect: 'deny' },
  { name: 'pull from a write-only policy', args: ['-av', 'H:/data', 'dst/'], policy: 'wo', expect: 'deny' },
  { name: '-s / --protect-args', args: ['-avs', 'H:/data', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: '-M--log-file', args: ['-av', '-M--log-file=/tmp/x', 'H:/data', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: '--rsync-path with a shell command', args: ['-av', '--rsync-path=rsync; touch /tmp/gk-pwned', 'H:/data', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: 'daemon over ssh without a daemon policy', args: ['-av', 'H::system/etc', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: '-L under a restricted root', args: ['-avL', 'H:/data', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: '--copy-unsafe-links under a restricted root', args: ['-av', '--copy-unsafe-links', 'H:/data', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: '-K on a push under a restricted root', args: ['-avK', 'SRC/', 'H:/dst/'], policy: 'wo', expect: 'deny' },
  { name: '--remove-source-files on a read-only pull', args: ['-av', '--remove-source-files', 'H:/data', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: '--delete without delete: true', args: ['-av', '--delete', 'SRC/', 'H:/dst/'], policy: 'wo', expect: 'deny' },
  { name: 'backups under overwrite: false', args: ['-av', '-b', '--backup-dir=/bk', 'SRC/', 'H:/dst/'], policy: 'wo-noover', expect: 'deny' },
  { name: '.. in a push destination', args: ['-av', 'SRC/', 'H:/dst/../../etc/'], policy: 'wo', expect: 'deny' },
  { name: 'symlink pointing out of root (pull)', args: ['-av', 'H:/outlink/secret', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: 'symlink pointing out of root (push)', args: ['-av', 'SRC/', 'H:/outlink/'], policy: 'wo', expect: 'deny' },
  { name: 'glob through a symlink pointing out', args: ['-av', 'H:/outl*/secret', 'dst/'], policy: 'ro', expect: 'deny' },
  { name: '--partial-dir through a symlink pointing out', args: ['-av', '--partial-dir=/outlink/p', 'SRC/', 'H:/dst/'], policy: 'wo', expect: 'deny' },
  { name: 'remote --files-from on a write-only policy', args: ['-av', '--files-from=:/list', 'SRC/', 'H:/dst/'], policy: 'wo', expect: 'deny' },
  { name: 'a shell', command: 'id', policy: 'ro', expect: 'deny' },
  { name: 'scp', command: 'scp -t /tmp', policy: 'ro', expect: 'deny' },
  { name: 'sftp', command: '/usr/lib/openssh/sftp-server', policy: 'ro', expect: 'deny' },
];

let base: string;
let root: string;

beforeAll(() => {
  base = tempDir();
  root = makeTree(base).root;
  mkdirSync(join(base, 'SRC'));
  writeFileSync(join(base, 'SRC', 'new.txt'), 'pushed\n');
  writeFileSync(join(base, 'locallist'), 'data/file.c\n');
});
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  cleanupClients();
});

describe.each(cases)('$name ($policy)', (c) => {
  const command = () => c.command ?? recordClientCommand(c.args!.map((a) => (a.startsWith('SRC') ? join(base, a) : a)), base);

  it(`gate: ${c.expect}`, () => {
    const cmd = command();
    const p = policy(policies[c.policy].input(root));
    const d = evaluate({ originalCommand: cmd, client: { addr: '127.0.0.1', port: 1 }, server: null, user: 'root', userAuthFile: null }, p, realFacts(p.rsync, true));
    expect(d.verdict, `${cmd}\n${d.reason}`).toBe(c.expect);
    if (d.verdict === 'allow' && d.argv.length) {
      const dot = d.argv.indexOf('.');
      expect(d.argv[dot - 1]).toBe('--');
    }
  });

  it(`rrsync ${policies[c.policy].rrsync.join(' ')} agrees${c.differs ? ' (deliberate difference)' : ''}`, () => {
    const verdict = rrsyncVerdict(command(), policies[c.policy].rrsync, root);
    if (c.differs) expect(verdict).not.toBe(c.expect);
    else expect(verdict).toBe(c.expect);
  });
});
