// The option table's security classes, pinned by behaviour through
// evaluate() with the names written out here, not read from the table: the
// attack corpus derives its refused-option attacks from the table itself, so
// an entry whose risk or argument kind changed would quietly change the
// attacks too. Each list is what the table says today; moving an option to
// another class must change this file as well.
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../src/evaluate.js';
import { realFs } from '../../src/facts.js';
import type { Decision } from '../../src/decide.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import type { Session } from '../../src/session.js';
import { policy, useTree } from '../helpers/policy.js';

const tree = useTree();
let root: string;
beforeAll(() => {
  root = tree.root();
});

const session = (cmd: string): Session => ({ originalCommand: cmd, client: { addr: '192.0.2.10', port: 40000 }, server: null, user: 'root', userAuthFile: null });
const run = (cmd: string, input: PolicyInput): Decision => evaluate(session(cmd), policy(input), { fs: realFs, confineRootSupported: true });
const PULL = 'rsync --server --sender -vlogDtpre.iLsfxCIvu';
const PUSH = 'rsync --server -vlogDtpre.iLsfxCIvu';
/** The most permissive policy short of listing options: a refusal here is the option's class. */
const open = (): PolicyInput => ({ root, access: 'read-write', delete: true, overwrite: true, options: { allow: [] } });

const ALWAYS_REFUSED_LONG_FLAGS = ['--copy-devices', '--daemon', '--no-munge-links', '--protect-args', '--secluded-args', '--write-devices', '--drop-D'];
const ALWAYS_REFUSED_LONG_VALUES = ['--debug', '--log-file', '--log-file-format', '--config', '--dparam', '--remote-option', '--rsh', '--rsync-path', '--confine-root'];

describe('always refused, whatever the policy allows', () => {
  it.each(ALWAYS_REFUSED_LONG_FLAGS)('%s', (name) => {
    const d = run(`${PULL} ${name} . /data/`, { ...open(), options: { allow: [name] }, enforce: false });
    expect(d).toMatchObject({ verdict: 'deny', code: 'always-refused' });
  });
  it.each(ALWAYS_REFUSED_LONG_VALUES)('%s=VALUE and %s VALUE', (name) => {
    for (const form of [`${name}=x`, `${name} x`]) {
      const d = run(`${PULL} ${form} . /data/`, { ...open(), options: { allow: [name] }, enforce: false });
      expect(d, form).toMatchObject({ verdict: 'deny', code: 'always-refused' });
    }
  });
  it.each(['-s', '-M--log-file=x', '-ex'])('the short spelling %s', (word) => {
    expect(run(`${PULL} ${word} . /data/`, { ...open(), enforce: false })).toMatchObject({ verdict: 'deny', code: 'always-refused' });
  });
});

describe('deleting needs delete: true', () => {
  const DELETE = ['--delete', '--delete-after', '--delete-before', '--delete-delay', '--delete-during', '--delete-excluded', '--delete-missing-args', '--remove-sent-files', '--remove-source-files'];
  it.each(DELETE)('%s', (name) => {
    const cmd = `${name.startsWith('--remove') ? PULL : PUSH} ${name} . /dst/`;
    expect(run(cmd, { ...open(), delete: false }), 'without').toMatchObject({ verdict: 'deny', code: 'delete-refused' });
    expect(run(cmd, open()).verdict, 'with').toBe('allow');
  });
});

describe('on a pull the client deletes, never the sending server: no delete: true needed', () => {
  const RECEIVER_DELETES = ['--delete', '--delete-after', '--delete-before', '--delete-delay', '--delete-during', '--delete-excluded', '--delete-missing-args'];
  it.each(RECEIVER_DELETES)('%s', (name) => {
    expect(run(`${PULL} ${name} . /data/`, { root, access: 'read-only' }).verdict, 'pull').toBe('allow');
    // options.deny still has the last word.
    expect(run(`${PULL} ${name} . /data/`, { root, access: 'read-only', options: { deny: [name] } })).toMatchObject({ verdict: 'deny', code: 'option-denied' });
  });
  it('--remove-source-files deletes on the sending server: still needs delete: true', () => {
    expect(run(`${PULL} --remove-source-files . /data/`, { root, access: 'read-only' })).toMatchObject({ verdict: 'deny', code: 'delete-refused' });
  });
});

describe('client-side display options are harmless on either side', () => {
  it.each(['-h', '--progress', '-v', '--stats'])('%s', (word) => {
    expect(run(`${PULL} ${word} . /data/`, { root, access: 'read-only' }).verdict, 'pull').toBe('allow');
    expect(run(`${PUSH} ${word} . /dst/`, { root, access: 'write-only' }).verdict, 'push').toBe('allow');
  });
});

describe('following symlinks is refused under a confined root', () => {
  it.each(['-L', '-k', '-K', '--copy-links', '--copy-dirlinks', '--keep-dirlinks', '--copy-unsafe-links'])('%s', (name) => {
    const word = name.startsWith('--') ? name : `-v${name.slice(1)}`;
    expect(run(`${PULL} ${word} . /data/`, open())).toMatchObject({ verdict: 'deny', code: 'follow-links-refused' });
    // With root / there is nothing to leave.
    expect(run(`${PULL} ${word} . /`, { access: 'read-only' }).verdict).toBe('allow');
  });
});

describe('replacing other names is refused with overwrite: false', () => {
  it.each([
    ['-b', ''],
    ['--backup', ''],
    ['--delay-updates', ''],
    ['--backup-dir', '=bak'],
    ['--partial-dir', '=part'],
  ])('%s', (name, value) => {
    const word = name.startsWith('--') ? `${name}${value}` : `-v${name.slice(1)}`;
    expect(run(`${PUSH} ${word} . /dst/`, { ...open(), overwrite: false })).toMatchObject({ verdict: 'deny', code: 'overwrite-refused' });
    expect(run(`${PUSH} ${word} . /dst/`, open()).verdict).toBe('allow');
  });
});

describe('unusual options need options.allow', () => {
  it('--only-write-batch', () => {
    expect(run(`${PUSH} --only-write-batch=b . /dst/`, open())).toMatchObject({ verdict: 'deny', code: 'option-not-allowed' });
    expect(run(`${PUSH} --only-write-batch=b . /dst/`, { ...open(), options: { allow: ['--only-write-batch'] } }).verdict).toBe('allow');
  });
});

describe('every path-valued option is checked inside root', () => {
  const PATHS = ['--backup-dir', '--compare-dest', '--copy-dest', '--link-dest', '--partial-dir', '--temp-dir', '--only-write-batch', '--files-from'];
  it.each(PATHS)('%s through a symlink pointing out, and with ".."', (name) => {
    const base = name === '--files-from' ? PULL : PUSH;
    const input = { ...open(), options: { allow: ['--only-write-batch'] } };
    const through = run(`${base} ${name}=/outlink/secret . /data/`, input);
    expect(through).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    const dots = run(`${base} ${name}=data/../../x . /data/`, input);
    expect(dots).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    // Inside root it is mapped into root.
    const inside = run(`${base} ${name}=/data . /data/`, input);
    expect(inside.verdict === 'allow' && inside.argv).toContain(`${name}=${root}/data`);
  });
});

describe('number options take numbers only', () => {
  it.each(['--block-size', '--checksum-seed', '--compress-level', '--compress-threads', '--max-delete', '--modify-window', '--timeout'])('%s', (name) => {
    expect(run(`${PULL} ${name}=1 . /data/`, open()).verdict).toBe('allow');
    expect(run(`${PULL} ${name}=/x . /data/`, open())).toMatchObject({ verdict: 'deny', code: 'syntax' });
  });
});
