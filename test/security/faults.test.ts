// Faults: every broken piece of configuration fails closed. The command is
// one the policy would allow, so only the fault stops it: exit 78, exactly
// one "gatekeeper: configuration error: ..." line on stderr naming the
// problem, nothing on stdout, and the target (a recorder) never runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { makeLab, pool, readRecords, type GateRun, type Lab } from './lab.js';

const NOBODY = 65534;
const ALLOWED = 'rsync --server --sender -vlogDtpre.iLsf . data/';

interface Fault {
  name: string;
  /** Prepare the fault in the lab; returns the gate's --policy (and --policy-dir) arguments. */
  setup(lab: Lab): { policy: string; policyDir?: string };
  /** Must match the single stderr line. */
  says: RegExp;
}

/** A policy file in its own root-owned 0700 directory inside the lab. */
function policyFile(lab: Lab, name: string, body: string, ext = 'yaml'): string {
  const dir = join(lab.dir, `p-${name}`);
  mkdirSync(dir, { mode: 0o700 });
  const file = join(dir, `${name}.${ext}`);
  writeFileSync(file, body, { mode: 0o600 });
  return file;
}

/**
 * Each fault's target is a recorder of its own: if the gate ever runs it, it
 * leaves FILE.ran beside itself, so a run is seen for that fault alone (the
 * faults run at the same time in one lab).
 */
function writeRecorder(file: string): string {
  writeFileSync(file, `#!/bin/sh\n# Stand-in for rsync: proves by a file whether the gate ran it.\necho ran >> '${file}.ran'\nexit 0\n`, { mode: 0o755 });
  return file;
}

const yaml = (lab: Lab, name: string, extra: Record<string, unknown>) =>
  stringify({ rsync: writeRecorder(join(lab.dir, 'bin', `rec-${name}`)), root: lab.root, log: lab.log, stateDir: lab.stateDir, ...extra });

/** A recorder the fault can damage without touching the others. */
function targetCopy(lab: Lab, name: string, opts: { mode?: number; owner?: number; dirMode?: number } = {}): string {
  const dir = join(lab.dir, `t-${name}`);
  mkdirSync(dir, { mode: 0o755 });
  const file = writeRecorder(join(dir, 'rsync'));
  if (opts.mode !== undefined) chmodSync(file, opts.mode);
  if (opts.owner !== undefined) chownSync(file, opts.owner, 0);
  if (opts.dirMode !== undefined) chmodSync(dir, opts.dirMode);
  return file;
}

const FAULTS: Fault[] = [
  // --- the log
  {
    name: 'log directory missing',
    setup: (lab) => ({ policy: policyFile(lab, 'logmissing', yaml(lab, 'logmissing', { log: join(lab.dir, 'no-such-dir', 'gate.log') })) }),
    says: /cannot open the log .*no-such-dir\/gate\.log: ENOENT .*create the directory/,
  },
  {
    name: 'log directory is a file',
    setup: (lab) => {
      writeFileSync(join(lab.dir, 'plain-file'), '');
      return { policy: policyFile(lab, 'lognotdir', yaml(lab, 'lognotdir', { log: join(lab.dir, 'plain-file', 'gate.log') })) };
    },
    says: /cannot open the log .*plain-file\/gate\.log: ENOTDIR/,
  },
  {
    name: 'log path is a directory',
    setup: (lab) => ({ policy: policyFile(lab, 'logisdir', yaml(lab, 'logisdir', { log: lab.stateDir })) }),
    says: /cannot open the log .*: EISDIR/,
  },
  {
    name: 'log path is a symlink (never followed)',
    setup: (lab) => {
      const link = join(lab.dir, 'log-link');
      symlinkSync(join(lab.dir, 'log', 'elsewhere.log'), link);
      return { policy: policyFile(lab, 'loglink', yaml(lab, 'loglink', { log: link })) };
    },
    says: /cannot open the log .*log-link: ELOOP/,
  },
  {
    name: 'log on a read-only file system (/proc)',
    setup: (lab) => ({ policy: policyFile(lab, 'logproc', yaml(lab, 'logproc', { log: '/proc/version' })) }),
    says: /cannot (open|write) the log \/proc\/version: E[A-Z]+/,
  },
  {
    name: 'log on a full disk (/dev/full)',
    setup: (lab) => ({ policy: policyFile(lab, 'logfull', yaml(lab, 'logfull', { log: '/dev/full' })) }),
    says: /cannot write the log \/dev\/full: ENOSPC/,
  },
  // --- the policy
  {
    name: 'policy absent (by name)',
    setup: (lab) => ({ policy: 'no-such-policy', policyDir: lab.policyDir }),
    says: /policy "no-such-policy" not found: looked for no-such-policy\.yaml, no-such-policy\.yml, no-such-policy\.json in /,
  },
  {
    name: 'policy absent (by path)',
    setup: (lab) => ({ policy: join(lab.dir, 'nowhere.yaml') }),
    says: /policy .*nowhere\.yaml not found/,
  },
  {
    name: 'broken YAML',
    setup: (lab) => ({ policy: policyFile(lab, 'broken', 'rsync: [unclosed\naccess: read-only\n') }),
    says: /broken\.yaml is not valid YAML/,
  },
  {
    name: 'duplicate YAML keys',
    setup: (lab) => ({ policy: policyFile(lab, 'dupkeys', `${yaml(lab, 'dupkeys', {})}access: read-write\naccess: read-only\n`) }),
    says: /dupkeys\.yaml is not valid YAML/,
  },
  {
    name: 'broken JSON',
    setup: (lab) => ({ policy: policyFile(lab, 'brokenjson', '{"rsync": ', 'json') }),
    says: /brokenjson\.json is not valid JSON/,
  },
  {
    name: 'schema: unknown key',
    setup: (lab) => ({ policy: policyFile(lab, 'unknownkey', yaml(lab, 'unknownkey', { readOnly: true })) }),
    says: /is invalid: \(top level\): unknown key\(s\) readOnly/,
  },
  {
    name: 'schema: wrong enum value',
    setup: (lab) => ({ policy: policyFile(lab, 'badaccess', yaml(lab, 'badaccess', { access: 'everything' })) }),
    says: /is invalid: access: /,
  },
  {
    name: 'schema: relative rsync path',
    setup: (lab) => ({ policy: policyFile(lab, 'relrsync', yaml(lab, 'relrsync', { rsync: 'rsync' })) }),
    says: /is invalid: rsync: rsync must be an absolute path/,
  },
  {
    name: 'schema: ".." in root',
    setup: (lab) => ({ policy: policyFile(lab, 'dotdotroot', yaml(lab, 'dotdotroot', { root: `${lab.root}/../outside` })) }),
    says: /is invalid: root: root must not contain '\.\.'/,
  },
  {
    name: 'schema: allowing an always-refused option',
    setup: (lab) => ({ policy: policyFile(lab, 'allowrsh', yaml(lab, 'allowrsh', { options: { allow: ['--rsh'] } })) }),
    says: /options\.allow: --rsh is always refused and cannot be allowed/,
  },
  {
    name: 'schema: a YAML list instead of a mapping',
    setup: (lab) => ({ policy: policyFile(lab, 'alist', '- rsync\n- access\n') }),
    says: /alist\.yaml is invalid/,
  },
  // --- the trust chain: anything another user can write is a root shell for them
  {
    name: 'policy owned by another user',
    setup: (lab) => {
      const file = policyFile(lab, 'nobodyowns', yaml(lab, 'nobodyowns', {}));
      chownSync(file, NOBODY, 0);
      return { policy: file };
    },
    says: /untrusted policy: .*nobodyowns\.yaml is owned by uid 65534, not root/,
  },
  {
    name: 'policy group-writable',
    setup: (lab) => {
      const file = policyFile(lab, 'groupw', yaml(lab, 'groupw', {}));
      chmodSync(file, 0o620);
      return { policy: file };
    },
    says: /untrusted policy: .*groupw\.yaml is writable by group or others \(mode 620\)/,
  },
  {
    name: 'policy directory group-writable',
    setup: (lab) => {
      policyFile(lab, 'dirgw', yaml(lab, 'dirgw', {}));
      chmodSync(join(lab.dir, 'p-dirgw'), 0o770);
      return { policy: 'dirgw', policyDir: join(lab.dir, 'p-dirgw') };
    },
    says: /untrusted policy: .*p-dirgw is writable by group or others \(mode 770\)/,
  },
  {
    name: 'policy directory owned by another user',
    setup: (lab) => {
      policyFile(lab, 'dirnobody', yaml(lab, 'dirnobody', {}));
      chownSync(join(lab.dir, 'p-dirnobody'), NOBODY, 0);
      return { policy: 'dirnobody', policyDir: join(lab.dir, 'p-dirnobody') };
    },
    says: /untrusted policy: .*p-dirnobody is owned by uid 65534, not root/,
  },
  {
    name: 'policy reached through a symlink another user owns',
    setup: (lab) => {
      const file = policyFile(lab, 'vialink', yaml(lab, 'vialink', {}));
      const link = join(lab.dir, 'link-to-policy.yaml');
      symlinkSync(file, link);
      lchownSync(link, NOBODY, 0);
      return { policy: link };
    },
    says: /untrusted policy: .*link-to-policy\.yaml is owned by uid 65534/,
  },
  {
    name: 'target owned by another user',
    setup: (lab) => ({ policy: policyFile(lab, 'tnobody', yaml(lab, 'tnobody', { rsync: targetCopy(lab, 'nobody', { owner: NOBODY }) })) }),
    says: /untrusted: .*t-nobody\/rsync is owned by uid 65534, not root/,
  },
  {
    name: 'target group-writable',
    setup: (lab) => ({ policy: policyFile(lab, 'tgw', yaml(lab, 'tgw', { rsync: targetCopy(lab, 'gw', { mode: 0o775 }) })) }),
    says: /untrusted: .*t-gw\/rsync is writable by group or others \(mode 775\)/,
  },
  {
    name: 'target directory world-writable (not sticky)',
    setup: (lab) => ({ policy: policyFile(lab, 'tdirww', yaml(lab, 'tdirww', { rsync: targetCopy(lab, 'dirww', { dirMode: 0o777 }) })) }),
    says: /untrusted: .*t-dirww is writable by group or others \(mode 777\)/,
  },
  {
    name: 'target missing',
    setup: (lab) => ({ policy: policyFile(lab, 'tmissing', yaml(lab, 'tmissing', { rsync: join(lab.dir, 'bin', 'no-rsync') })) }),
    says: /the policy's rsync .*no-rsync does not exist/,
  },
  {
    name: 'target not executable',
    setup: (lab) => ({ policy: policyFile(lab, 'tnoexec', yaml(lab, 'tnoexec', { rsync: targetCopy(lab, 'noexec', { mode: 0o644 }) })) }),
    says: /the policy's rsync .*t-noexec\/rsync is not executable/,
  },
  {
    name: 'target is a directory',
    setup: (lab) => ({ policy: policyFile(lab, 'tdir', yaml(lab, 'tdir', { rsync: join(lab.dir, 'bin') })) }),
    says: /the policy's rsync .*\/bin is not a regular file/,
  },
  // --- other state the gate needs
  {
    name: 'policy root missing',
    setup: (lab) => ({ policy: policyFile(lab, 'rootmissing', yaml(lab, 'rootmissing', { root: join(lab.dir, 'no-root') })) }),
    says: /the policy root .*no-root does not exist/,
  },
  {
    name: 'maxConnections state directory unusable',
    setup: (lab) => {
      writeFileSync(join(lab.dir, 'state-file'), '');
      return { policy: policyFile(lab, 'statebad', yaml(lab, 'statebad', { maxConnections: 2, stateDir: join(lab.dir, 'state-file') })) };
    },
    says: /maxConnections keeps its slots in stateDir .*state-file, which root cannot use \(ENOTDIR.*set stateDir in the policy to a directory root can write/,
  },
];

/** The faults that happen once the log is open: the gate can still record them. */
const LOGGED = new Set([
  'target owned by another user',
  'target group-writable',
  'target directory world-writable (not sticky)',
  'target missing',
  'target not executable',
  'target is a directory',
  'policy root missing',
  'maxConnections state directory unusable',
]);

/** The faults whose policy names no program that could run (no policy, unreadable, or not a runnable file). */
const NO_TARGET = new Set([
  'policy absent (by name)',
  'policy absent (by path)',
  'broken YAML',
  'duplicate YAML keys',
  'broken JSON',
  'schema: relative rsync path',
  'schema: a YAML list instead of a mapping',
  'target missing',
  'target not executable',
  'target is a directory',
]);

/** The program a fault's policy names, when it is a runnable file (read apart from the gate). */
function targetOf(a: { policy: string; policyDir?: string }): string | null {
  const file = a.policyDir ? join(a.policyDir, `${a.policy}.yaml`) : a.policy;
  try {
    const rsync = (parse(readFileSync(file, 'utf8')) as { rsync?: unknown } | null)?.rsync;
    if (typeof rsync !== 'string' || !rsync.startsWith('/')) return null;
    const st = statSync(rsync);
    return st.isFile() && (st.mode & 0o111) !== 0 ? rsync : null;
  } catch {
    return null;
  }
}

let lab: Lab;
let args: { policy: string; policyDir?: string }[];
const runs = new Map<Fault, Promise<GateRun>>();

beforeAll(() => {
  lab = makeLab('gk-sec-faults-');
  args = FAULTS.map((f) => f.setup(lab));
  const all = pool(FAULTS, 8, (_f, k) => lab.run({ command: ALLOWED, ...args[k]! }));
  FAULTS.forEach((f, k) => runs.set(f, all.then((r) => r[k]!)));
});
afterAll(() => lab?.cleanup());

describe('each fault fails closed: exit 78, one stderr line, no stdout, the target not run', () => {
  it('the control: the same command under the lab policy runs the target', async () => {
    // Run last-in-spirit: a separate lab so the marker of the faults' lab stays meaningful.
    const control = makeLab('gk-sec-faults-control-');
    try {
      const r = await control.run({ command: ALLOWED });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(control.marker)).toBe(true);
    } finally {
      control.cleanup();
    }
  });

  it.for(FAULTS)('$name', async (fault) => {
    const r = await runs.get(fault)!;
    expect(r.stdout.length, r.stderr).toBe(0);
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/^gatekeeper: configuration error: [^\n]+\n$/);
    expect(r.stderr).toMatch(fault.says);
    const target = targetOf(args[FAULTS.indexOf(fault)]!);
    if (target !== null) expect(existsSync(`${target}.ran`), `the target ran despite: ${fault.name}`).toBe(false);
  });

  it('the faults that still allow logging leave exactly one error record each, the others none', async () => {
    await Promise.all(runs.values());
    const records = readRecords(lab.log);
    expect(records.some((r) => r.event === 'allow')).toBe(false);
    const errors = records.filter((r) => r.event === 'error');
    for (const r of errors) expect(r.status).toBe(78);
    FAULTS.forEach((f, k) => {
      const mine = errors.filter((r) => r.policy === args[k]!.policy);
      expect(mine.length, `error records of "${f.name}"`).toBe(LOGGED.has(f.name) ? 1 : 0);
    });
    expect(errors.length).toBe(LOGGED.size);
  });

  it('no fault ran its target, and each target would have left its marker had it run', async () => {
    await Promise.all(runs.values());
    const withTarget = FAULTS.map((f, k) => ({ f, target: targetOf(args[k]!) }));
    expect(withTarget.filter((t) => t.target === null).map((t) => t.f.name).sort()).toEqual([...NO_TARGET].sort());
    for (const { f, target } of withTarget) {
      if (target === null) continue;
      expect(existsSync(`${target}.ran`), `the target ran despite: ${f.name}`).toBe(false);
      // Not vacuous: the very file the policy names leaves its marker when run.
      expect(spawnSync(target, [], { stdio: 'ignore' }).status, target).toBe(0);
      expect(readFileSync(`${target}.ran`, 'utf8'), target).toBe('ran\n');
    }
  });
});
