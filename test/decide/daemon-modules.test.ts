// A path asked of a daemon policy is told which modules to use: the names come
// from the policy's rsyncd.conf (its [module] headers), read only for that
// refusal and only from a trusted regular file.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/evaluate.js';
import { realFs } from '../../src/facts.js';
import type { Facts } from '../../src/decide.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { daemonModules, readDaemonModules } from '../../src/policy/daemon-modules.js';
import { policy, tempDir } from '../helpers/policy.js';

const session = (cmd: string) => ({ originalCommand: cmd, client: { addr: '192.0.2.10', port: 40000 }, server: null, user: 'root', userAuthFile: null });
const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';
const DAEMON: PolicyInput = { daemon: { config: '/etc/rsyncd.conf' } };

describe('daemonModules: the [module] headers of an rsyncd.conf', () => {
  it('names each section but [global], trimmed, inner blanks one space, each once, in order', () => {
    const text = [
      'lock file = /run/rsyncd.lock',
      '[global]',
      'uid = 0',
      '[system]',
      '  path = /',
      '  [ home  dirs ]  ',
      '[GLOBAL]',
      '[etc]\r',
      '[system]',
      '',
    ].join('\n');
    expect(daemonModules(text)).toEqual(['system', 'home dirs', 'etc']);
  });
  it('leaves out comments, values with brackets, empty names, names with a slash or a control character', () => {
    const text = ['# [commented]', '; [also]', 'path = /srv/[x]', '[]', '[a/b]', '[esc\x1b[31m]', '[bad\x07]', '[x] trailing', '[ok]'].join('\n');
    expect(daemonModules(text)).toEqual(['ok']);
  });
});

describe('readDaemonModules: only a trusted regular file is read', () => {
  const base = tempDir('gk-modules-');
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const conf = join(base, 'rsyncd.conf');
  writeFileSync(conf, '[backup]\npath = /srv\n[etc]\npath = /etc\n', { mode: 0o600 });
  it('reads the names of a root-owned config', () => {
    expect(readDaemonModules(conf)).toEqual(['backup', 'etc']);
  });
  it('none from a symlink, a directory, a missing file', () => {
    const link = join(base, 'link.conf');
    symlinkSync(conf, link);
    const sub = join(base, 'dir.conf');
    mkdirSync(sub);
    expect([readDaemonModules(link), readDaemonModules(sub), readDaemonModules(join(base, 'missing'))]).toEqual([null, null, null]);
  });
  it.runIf(process.getuid?.() === 0)('none from a config another user could replace (as root)', () => {
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const writable = join(open, 'rsyncd.conf');
    writeFileSync(writable, '[evil]\n', { mode: 0o644 });
    expect(readDaemonModules(writable)).toBeNull();
  });
});

describe('the refusal of a path asked of a daemon policy', () => {
  const decide = (modules: Facts['daemonModules']) => {
    const facts: Facts = { fs: realFs, confineRootSupported: true };
    if (modules) facts.daemonModules = modules;
    return evaluate(session(PULL), policy(DAEMON), facts);
  };
  it('names the modules to use', () => {
    const d = decide(() => ['system', 'home']);
    expect(d).toMatchObject({ verdict: 'deny', code: 'daemon-only' });
    expect(d.verdict === 'deny' && d.reason).toBe(
      'this is a daemon policy: this server serves rsync modules, not paths: use HOST::MODULE, with MODULE one of: system, home (rsync HOST::MODULE/PATH DEST); only "rsync --server --daemon ." is allowed',
    );
  });
  it('names at most 20, then says there are more', () => {
    const many = Array.from({ length: 25 }, (_, i) => `m${i}`);
    const d = decide(() => many);
    expect(d.verdict === 'deny' && d.reason).toContain(`one of: ${many.slice(0, 20).join(', ')}, ... (rsync`);
  });
  it('without readable names (null, none, no fact) the refusal names none', () => {
    const plain = 'this is a daemon policy: this server serves rsync modules, not paths: use HOST::MODULE (rsync HOST::MODULE/PATH DEST); only "rsync --server --daemon ." is allowed';
    for (const f of [() => null, () => [], undefined]) {
      const d = decide(f);
      expect(d.verdict === 'deny' && d.reason).toBe(plain);
    }
  });
  it('a policy with describe: false names none (they are what describe would tell)', () => {
    const d = evaluate(session(PULL), policy({ ...DAEMON, describe: false }), { fs: realFs, confineRootSupported: true, daemonModules: () => ['system'] });
    expect(d).toMatchObject({ verdict: 'deny', code: 'daemon-only' });
    expect(d.verdict === 'deny' && d.reason).not.toContain('system');
  });
  it('the names are not read for a daemon call nor under a path policy', () => {
    let asked = 0;
    const count = () => {
      asked++;
      return ['system'];
    };
    const daemon: Facts = { fs: realFs, confineRootSupported: true, daemonModules: count };
    expect(evaluate(session('rsync --server --daemon .'), policy(DAEMON), daemon).verdict).toBe('allow');
    expect(evaluate(session(PULL), policy({ access: 'read-only' }), daemon).verdict).toBe('allow');
    expect(asked).toBe(0);
  });
});
