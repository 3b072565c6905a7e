// Symlink races: a path component swapped for a symlink between the gate's
// check (realpath at decision time) and rsync's open. The gate cannot close
// that window itself; with root ≠ / it hands rsync 3.5 --confine-root, and
// rsync 3.5 also refuses a symlink component owned by another user in the
// destination and in option paths. These tests run real transfers: the real
// rsync client, whose remote shell is a "local ssh" script that execs the
// gate with SSH_ORIGINAL_COMMAND built from its arguments as ssh does.
//
// The attacker is a local user who can write inside the policy root: their
// symlinks are owned by uid 65534.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lchownSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATEKEEPER, listing, makeLab, SECRET, SSH_CONNECTION, type Lab } from './lab.js';
import { waitUntil } from '../helpers/wait.js';

const NOBODY = 65534;
const RSYNC = '/usr/bin/rsync';
const PAYLOAD = 'pushed-payload\n';

let lab: Lab;
let lssh: string;

/** The remote shell for the rsync client: runs the gate as sshd would (words after the host joined by spaces). */
function localSsh(dir: string): string {
  const file = join(dir, 'bin', 'local-ssh');
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      'shift # the host',
      '# The status of the gate (or of the rsync it became) goes to $GK_STATUS: the client only says the connection closed.',
      `SSH_ORIGINAL_COMMAND="$*" SSH_CONNECTION='${SSH_CONNECTION}' USER=root '${process.execPath}' '${GATEKEEPER}' gate --policy "$GK_POLICY"`,
      'status=$?',
      'echo "$status" > "$GK_STATUS"',
      'exit "$status"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

/** Run the rsync client; `code` is its exit status, `server` that of the gate (or of the rsync the gate became). */
function rsyncClient(policy: string, args: string[]): { code: number | null; server: number | null; stderr: string } {
  const status = join(lab.dir, 'server-status');
  rmSync(status, { force: true });
  const r = spawnSync(RSYNC, ['-e', lssh, ...args], { env: { PATH: '/usr/bin:/bin', GK_POLICY: policy, GK_STATUS: status }, encoding: 'utf8', timeout: 60_000 });
  const server = existsSync(status) ? Number(readFileSync(status, 'utf8')) : null;
  return { code: r.status, server, stderr: r.stderr };
}

/** Point `link` at `target` atomically (a fresh symlink renamed over it), owned by `uid`. */
function swapLink(link: string, target: string, uid: number): void {
  const tmp = `${link}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  lchownSync(tmp, uid, uid);
  spawnSync('/bin/mv', ['-T', tmp, link]);
}

/** A child process flipping `link` between an inside target (root's link) and an outside one (the attacker's). */
function startFlipper(link: string, inside: string, outside: string) {
  const code = `
    const fs = require('node:fs');
    const [link, inside, outside, uid] = process.argv.slice(1);
    let n = 0;
    for (;;) {
      const out = n++ % 2 === 1;
      const tmp = link + '.flip';
      try { fs.unlinkSync(tmp); } catch {}
      fs.symlinkSync(out ? outside : inside, tmp);
      fs.lchownSync(tmp, out ? Number(uid) : 0, out ? Number(uid) : 0);
      fs.renameSync(tmp, link);
      // Written aside and renamed: a reader never sees the file truncated (which read as 0 flips).
      if (n % 1000 === 0) { fs.writeFileSync(link + '.count.tmp', String(n)); fs.renameSync(link + '.count.tmp', link + '.count'); }
    }`;
  const child = spawn(process.execPath, ['-e', code, link, inside, outside, String(NOBODY)], { stdio: 'ignore' });
  const flips = () => Number(existsSync(`${link}.count`) ? readFileSync(`${link}.count`, 'utf8') : 0);
  return {
    flips,
    /** Resolves once the flipper is flipping (its first thousand), so the transfers meet a moving link. */
    running: () => waitUntil(() => flips() > 0, () => (child.exitCode !== null || child.signalCode !== null ? `the flipper exited (${child.exitCode ?? child.signalCode}) before flipping` : null)),
    stop: () => new Promise<void>((resolve) => {
      child.on('exit', () => resolve());
      child.kill('SIGKILL');
    }),
  };
}

beforeAll(() => {
  lab = makeLab('gk-sec-race-');
  lssh = localSsh(lab.dir);
  writeFileSync(join(lab.dir, 'payload.txt'), PAYLOAD);
  mkdirSync(join(lab.root, 'real-incoming'));
  mkdirSync(join(lab.root, 'real-data'));
  writeFileSync(join(lab.root, 'real-data', 'secret.txt'), 'inside\n');
  mkdirSync(join(lab.outside, 'target'));
});
afterAll(() => lab?.cleanup());

describe('rsync 3.5 is given --confine-root when root is not /', () => {
  it('the gate adds it for the real rsync', () => {
    const policy = lab.writePolicy('real', { rsync: RSYNC, access: 'read-write', root: lab.root });
    const r = spawnSync(process.execPath, [GATEKEEPER, 'check', '--json', '--policy', policy, '--', 'rsync --server -logDtpre.iLsf . incoming/'], { encoding: 'utf8' });
    const out = JSON.parse(r.stdout) as { argv: string[] };
    expect(out.argv).toContain(`--confine-root=${lab.root}`);
    expect(out.argv).toContain('--drop-D');
  });
});

/**
 * Why a run during a race failed, or null when the failure is not one the
 * race explains (then the test fails and shows stderr): the gate saw the link
 * pointing out (77), the gate's chdir landed elsewhere (77), or rsync 3.5
 * refused to follow the attacker's symlink (its own exit status, not 0).
 */
function raceRefusal(r: { code: number | null; server: number | null; stderr: string }): string | null {
  if (r.code === 0) return null;
  if (r.server === 77 && /gatekeeper: refused: .*outside the policy root/.test(r.stderr)) return 'gate: points out';
  if (r.server === 77 && /gatekeeper: refused: .*changed between the check and its use.*symlink race/.test(r.stderr)) return 'gate: changed before chdir';
  if (r.server !== null && r.server !== 0 && r.server !== 77 && /refusing to follow a symlink owned by an untrusted user/.test(r.stderr)) return 'rsync: untrusted symlink';
  return null;
}

describe('a destination component flipped in a loop during 30 real pushes', () => {
  it('never puts a byte outside root (rsync refuses the attacker\'s symlink; the gate refuses what it sees pointing out)', async () => {
    const policy = lab.writePolicy('push', { rsync: RSYNC, access: 'read-write', root: lab.root });
    const link = join(lab.root, 'incoming');
    swapLink(link, 'real-incoming', 0);
    const outsideBefore = listing(lab.outside);
    const flipper = startFlipper(link, 'real-incoming', join(lab.outside, 'target'));
    const outcomes: Record<string, number> = {};
    try {
      await flipper.running();
      const flipsBefore = flipper.flips();
      for (let i = 0; i < 30; i++) {
        // Even: the destination goes through the link. Odd: the option path
        // does (absolute, so it names root/incoming whatever directory the
        // push starts in), the destination is a plain directory.
        const args = i % 2 === 0 ? ['-a', join(lab.dir, 'payload.txt'), `h:incoming/p${i}.txt`] : ['-a', '--temp-dir=/incoming', join(lab.dir, 'payload.txt'), `h:real-incoming/t${i}.txt`];
        const r = rsyncClient(policy, args);
        const why = r.code === 0 ? 'ok' : raceRefusal(r);
        expect(why, `push ${i} failed for a reason the race does not explain (client ${r.code}, server ${r.server}): ${r.stderr}`).not.toBeNull();
        outcomes[`${i % 2 === 0 ? 'dest' : 'temp-dir'} ${why}`] = (outcomes[`${i % 2 === 0 ? 'dest' : 'temp-dir'} ${why}`] ?? 0) + 1;
        // Nothing outside root changes, not even for a moment: a directory's mtime would show a
        // temporary file created there and removed again (what a --temp-dir through the flipping
        // link did before rsync was handed the option path as the gate resolved it).
        expect(listing(lab.outside), `after push ${i}: ${r.stderr}`).toEqual(outsideBefore);
      }
      expect(flipper.flips(), 'the link kept flipping during the pushes').toBeGreaterThan(flipsBefore);
    } finally {
      await flipper.stop();
    }
    expect(listing(lab.outside)).toEqual(outsideBefore);
    // Not vacuous: the link did flip meanwhile, and the same pushes work once
    // it holds still (under load the race may refuse every one of the 30).
    swapLink(link, 'real-incoming', 0);
    const control = rsyncClient(policy, ['-a', join(lab.dir, 'payload.txt'), 'h:incoming/control.txt']);
    expect(control.code, control.stderr).toBe(0);
    expect(readFileSync(join(lab.root, 'real-incoming', 'control.txt'), 'utf8')).toBe(PAYLOAD);
    const viaTemp = rsyncClient(policy, ['-a', '--temp-dir=/incoming', join(lab.dir, 'payload.txt'), 'h:real-incoming/control-t.txt']);
    expect(viaTemp.code, viaTemp.stderr).toBe(0);
    expect(readFileSync(join(lab.root, 'real-incoming', 'control-t.txt'), 'utf8')).toBe(PAYLOAD);
    console.info(`push race: ${JSON.stringify(outcomes)}, ${flipper.flips()}+ flips`);
  }, 240_000);
});

describe('a source directory flipped in a loop during 30 real pulls', () => {
  it('never sends a byte from outside root (the gate pins what it checked, or refuses what points out)', async () => {
    const policy = lab.writePolicy('pull-loop', { rsync: RSYNC, access: 'read-only', root: lab.root });
    const link = join(lab.root, 'flipsrc');
    swapLink(link, 'real-data', 0);
    const flipper = startFlipper(link, 'real-data', lab.outside);
    const outcomes: Record<string, number> = {};
    try {
      await flipper.running();
      const flipsBefore = flipper.flips();
      for (let i = 0; i < 30; i++) {
        const dst = join(lab.dir, `dst-loop-${i}`);
        mkdirSync(dst);
        const r = rsyncClient(policy, ['-a', i % 2 === 0 ? 'h:flipsrc/secret.txt' : 'h:flipsrc/', `${dst}/`]);
        const why = r.code === 0 ? 'ok' : raceRefusal(r);
        expect(why, `pull ${i} failed for a reason the race does not explain (client ${r.code}, server ${r.server}): ${r.stderr}`).not.toBeNull();
        outcomes[why!] = (outcomes[why!] ?? 0) + 1;
        const got = existsSync(join(dst, 'secret.txt')) ? readFileSync(join(dst, 'secret.txt'), 'utf8') : null;
        expect(got === null || got === 'inside\n', `pull ${i}: ${got} ${r.stderr}`).toBe(true);
      }
      expect(flipper.flips(), 'the link kept flipping during the pulls').toBeGreaterThan(flipsBefore);
    } finally {
      await flipper.stop();
    }
    swapLink(link, 'real-data', 0);
    const dst = join(lab.dir, 'dst-loop-control');
    mkdirSync(dst);
    const control = rsyncClient(policy, ['-a', 'h:flipsrc/secret.txt', `${dst}/`]);
    expect(control.code, `${JSON.stringify(outcomes)} ${control.stderr}`).toBe(0);
    expect(readFileSync(join(dst, 'secret.txt'), 'utf8')).toBe('inside\n');
    console.info(`pull race: ${JSON.stringify(outcomes)}, ${flipper.flips()}+ flips`);
  }, 240_000);
});

/**
 * A policy whose "rsync" swaps `link` to the attacker's symlink and then execs
 * the real rsync: the race, won every time. Right before the exec it writes
 * what the link then is (`readlink` and its owner) to `${link}.seen`, and it
 * never runs rsync when the swap failed.
 */
function swappingTarget(name: string, link: string, outsideTarget: string): string {
  const file = join(lab.dir, 'bin', `swap-${name}`);
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      '# Runs after the gate checked the paths and before rsync opens them.',
      `ln -sfn '${outsideTarget}' '${link}.new' && chown -h ${NOBODY}:${NOBODY} '${link}.new' && mv -T '${link}.new' '${link}' || exit 99`,
      `printf '%s %s\\n' "$(readlink '${link}')" "$(stat -c %u '${link}')" > '${link}.seen'`,
      `exec ${RSYNC} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return file;
}

/** What the swapping target saw when it handed over to rsync: the attacker's link. */
function expectSwapped(link: string, outsideTarget: string): void {
  expect(readFileSync(`${link}.seen`, 'utf8'), 'the link when the transfer started (readlink, owner)').toBe(`${outsideTarget} ${NOBODY}\n`);
  rmSync(`${link}.seen`);
}

describe('the race won every time: the swap happens right between the check and the open', () => {
  // rsync 3.5 refuses a destination that leads through the attacker's
  // symlink when the swap has happened before it looks, but under load a push
  // still landed outside during the flipping loop below (rsync's own check
  // and use are apart too). The gate now starts a push inside the checked
  // destination directory: the swapped name is never resolved again, and the
  // push lands where it was checked.
  it('push to a destination swapped after the check: rsync starts in the checked directory and receives there', () => {
    const link = join(lab.root, 'dest');
    swapLink(link, 'real-incoming', 0);
    const target = swappingTarget('push', link, join(lab.outside, 'target'));
    const policy = lab.writePolicy('swap-push', { rsync: target, access: 'read-write', root: lab.root, confineRoot: true });
    const before = listing(lab.outside);
    const r = rsyncClient(policy, ['-a', join(lab.dir, 'payload.txt'), 'h:dest/swapped.txt']);
    expect(r.code, r.stderr).toBe(0);
    expectSwapped(link, join(lab.outside, 'target'));
    expect(readFileSync(join(lab.root, 'real-incoming', 'swapped.txt'), 'utf8')).toBe(PAYLOAD);
    expect(listing(lab.outside)).toEqual(before);
  });

  // A push starts inside its destination directory, so a relative
  // --temp-dir=tmpdir is real-incoming/tmpdir: that is the link swapped here,
  // from a directory of root's to the attacker's link pointing out. rsync is
  // handed the directory the gate resolved (real-incoming/real-tmp), so the
  // swapped name is never followed and the push goes through.
  it('push with an option path (--temp-dir) swapped to the attacker\'s symlink after the check: rsync uses the directory the gate resolved, nothing lands outside', () => {
    mkdirSync(join(lab.root, 'real-incoming', 'real-tmp'));
    const link = join(lab.root, 'real-incoming', 'tmpdir');
    swapLink(link, 'real-tmp', 0);
    const outsideTarget = join(lab.outside, 'target');
    const policy = lab.writePolicy('swap-tmp', { rsync: RSYNC, access: 'read-write', root: lab.root, confineRoot: true });
    // Reachable: with the link holding still, rsync does use it.
    const control = rsyncClient(policy, ['-a', '--temp-dir=tmpdir', join(lab.dir, 'payload.txt'), 'h:real-incoming/viatemp-control.txt']);
    expect(control.code, control.stderr).toBe(0);
    expect(readFileSync(join(lab.root, 'real-incoming', 'viatemp-control.txt'), 'utf8')).toBe(PAYLOAD);

    const target = swappingTarget('tmp', link, outsideTarget);
    lab.writePolicy('swap-tmp', { rsync: target, access: 'read-write', root: lab.root, confineRoot: true });
    const before = listing(lab.outside);
    const r = rsyncClient(policy, ['-a', '--temp-dir=tmpdir', join(lab.dir, 'payload.txt'), 'h:real-incoming/viatemp.txt']);
    expectSwapped(link, outsideTarget);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(lab.root, 'real-incoming', 'viatemp.txt'), 'utf8')).toBe(PAYLOAD);
    expect(listing(lab.outside), r.stderr).toEqual(before);
  });

  // rsync 3.5 confines option paths and the destination, but a pull's
  // explicit source paths "remain operator-selected transfer roots" (rsync(1),
  // --confine-root): the sender follows a symlink swapped into a source path
  // after the gate's check. The gate closes that by starting rsync inside the
  // checked source directory (an inode, verified after chdir), so the swapped
  // name is never resolved again. Before that change this pull delivered the
  // outside file every time.
  it('pull of a source path swapped after the check: rsync starts in the checked directory and sends what was checked', () => {
    const link = join(lab.root, 'pulled');
    swapLink(link, 'real-data', 0);
    const target = swappingTarget('pull', link, lab.outside);
    const policy = lab.writePolicy('swap-pull', { rsync: target, access: 'read-only', root: lab.root, confineRoot: true });
    for (const [i, source] of ['h:pulled/secret.txt', 'h:pulled/'].entries()) {
      swapLink(link, 'real-data', 0);
      const dst = join(lab.dir, `dst-pinned-${i}`);
      mkdirSync(dst);
      const r = rsyncClient(policy, ['-a', source, `${dst}/`]);
      const got = existsSync(join(dst, 'secret.txt')) ? readFileSync(join(dst, 'secret.txt'), 'utf8') : null;
      expectSwapped(link, lab.outside);
      expect(r.code, r.stderr).toBe(0);
      expect(got, source).toBe('inside\n');
    }
  });

  it('the same pull is refused at check time when the symlink is already there', () => {
    const link = join(lab.root, 'pulled-static');
    swapLink(link, lab.outside, NOBODY);
    const policy = lab.writePolicy('static-pull', { rsync: RSYNC, access: 'read-only', root: lab.root });
    const dst = join(lab.dir, 'dst-static');
    mkdirSync(dst);
    const r = rsyncClient(policy, ['-a', 'h:pulled-static/secret.txt', `${dst}/`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/gatekeeper: refused: .*outside the policy root/);
    expect(existsSync(join(dst, 'secret.txt'))).toBe(false);
  });
});

// What --confine-root adds even without a race: a --files-from list comes
// over the protocol (--files-from=-), so the gate never sees its names. A name
// through a symlink inside root that points out is refused by rsync 3.5 with
// --confine-root; without it (an older rsync, or confineRoot: false) the file
// outside root is sent. SECURITY.md, "Older rsync builds".
describe('a --files-from list naming a path through a symlink that points out', () => {
  function pullWithList(policyName: string, confineRoot: boolean | 'auto'): string | null {
    const policy = lab.writePolicy(policyName, { rsync: RSYNC, access: 'read-only', root: lab.root, confineRoot });
    const list = join(lab.dir, `${policyName}.list`);
    writeFileSync(list, 'link-out/secret.txt\n');
    const dst = join(lab.dir, `dst-${policyName}`);
    mkdirSync(dst);
    rsyncClient(policy, ['-a', `--files-from=${list}`, 'h:.', `${dst}/`]);
    const got = join(dst, 'link-out', 'secret.txt');
    return existsSync(got) ? readFileSync(got, 'utf8') : null;
  }

  it('rsync 3.5 with the --confine-root the gate adds: the file outside root never arrives', () => {
    expect(pullWithList('list-confined', 'auto')).toBeNull();
  });

  it('WITHOUT --confine-root (as with an older rsync): the file outside root is sent', () => {
    expect(pullWithList('list-unconfined', false)).toBe(SECRET);
  });
});
