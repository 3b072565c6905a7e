// doctor warns when a write policy's root lies on a filesystem mounted
// without nosuid (and without nodev where device files can arrive).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mountCheck, mountOf } from '../../src/doctor/checks.js';
import { BUNDLE, NODE } from '../helpers/gate.js';
import { tempDir } from '../helpers/policy.js';

// Shaped like /proc/self/mountinfo: per-mount options in field 6, then optional fields, "-", type, source, super options.
const MOUNTINFO = [
  '21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro',
  '30 21 8:2 / /srv/backup rw,nosuid,nodev,relatime shared:5 - ext4 /dev/sdb1 rw',
  '31 21 8:3 / /srv/backups rw,relatime shared:6 - xfs /dev/sdc1 rw',
  '32 31 0:40 / /srv/backups/nosuid rw,nosuid,relatime shared:7 - tmpfs tmpfs rw',
  '33 31 0:41 / /srv/backups/nosuid rw,nosuid,nodev,relatime shared:8 - tmpfs tmpfs rw', // stacked: the later one counts
  '34 21 0:42 / /mnt/with\\040space rw,nosuid,nodev - tmpfs tmpfs rw',
].join('\n');

describe('mountOf: the longest mount point that is a prefix of the path', () => {
  it('picks the deepest mount, not a sibling that shares a prefix of letters', () => {
    expect(mountOf('/srv/backups/host1', MOUNTINFO)).toMatchObject({ mountPoint: '/srv/backups', fsType: 'xfs' });
    expect(mountOf('/srv/backup/host1', MOUNTINFO)).toMatchObject({ mountPoint: '/srv/backup' });
    expect(mountOf('/srv/backupsX', MOUNTINFO)).toMatchObject({ mountPoint: '/' });
    expect(mountOf('/srv/backups/nosuid/a', MOUNTINFO)?.options).toContain('nodev');
    expect(mountOf('/mnt/with space/x', MOUNTINFO)).toMatchObject({ mountPoint: '/mnt/with space' });
  });
});

describe('mountCheck on a given mount table', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const table = (opts: string) => `21 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n40 21 0:50 / ${dir} ${opts} - tmpfs tmpfs rw`;

  it('warns without nosuid, naming the mount point and the fix; says what setuid: keep means', () => {
    const c = mountCheck('policy p', dir, 'strip', false, table('rw,relatime'));
    expect(c).toMatchObject({ status: 'warn', check: 'policy p: mount' });
    expect(c.detail).toContain(`on ${dir} (tmpfs`);
    expect(c.detail).toContain('without nosuid');
    expect(c.fix).toContain(`mount ${dir} with nosuid`);
    expect(mountCheck('policy p', dir, 'keep', false, table('rw')).detail).toContain('setuid: keep');
  });
  it('is ok with nosuid when no device files can arrive, and wants nodev as well when they can', () => {
    expect(mountCheck('policy p', dir, 'strip', false, table('rw,nosuid')).status).toBe('ok');
    const dev = mountCheck('policy p', dir, 'strip', true, table('rw,nosuid'));
    expect(dev).toMatchObject({ status: 'warn' });
    expect(dev.detail).toContain('without nodev');
    expect(dev.detail).not.toContain('nosuid and');
    expect(mountCheck('policy p', dir, 'strip', true, table('rw,nosuid,nodev')).status).toBe('ok');
  });
  it('fails for a root that does not exist', () => {
    expect(mountCheck('policy p', join(dir, 'missing'), 'strip', false, table('rw'))).toMatchObject({ status: 'fail' });
  });
});

describe('gatekeeper doctor on a real mount (private mount namespace)', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('gk-mount-');
    mkdirSync(join(dir, 'root'));
    mkdirSync(join(dir, 'log'), { mode: 0o750 });
    writeFileSync(join(dir, 'push.yaml'), `access: write-only\nroot: ${dir}/root\nlog: ${dir}/log/g.log\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'ro.yaml'), `access: read-only\nroot: ${dir}/root\nlog: ${dir}/log/g.log\n`, { mode: 0o600 });
    chmodSync(dir, 0o700);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** doctor --json for one policy, with a tmpfs mounted on the policy root (options `opts`) in a namespace of its own. */
  const doctorWith = (opts: string, policy = 'push.yaml') => {
    const r = spawnSync(
      '/usr/bin/unshare',
      ['-m', '--propagation', 'private', '--', '/bin/sh', '-c', 'mount -t tmpfs -o "$1" tmpfs "$2/root" && exec "$3" "$4" doctor --policy "$2/$5" --authorized-keys "$2/ak" --json', 'sh', opts, dir, NODE, BUNDLE, policy],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const parsed = JSON.parse(r.stdout) as { check: string; status: string; detail: string }[] | { checks: { check: string; status: string; detail: string }[] };
    const checks = Array.isArray(parsed) ? parsed : parsed.checks;
    return checks.filter((c) => c.check.endsWith(': mount'));
  };

  it('warns for a write policy whose root is mounted without nosuid', () => {
    const [c] = doctorWith('rw');
    expect(c).toMatchObject({ status: 'warn' });
    expect(c!.detail).toContain(`${dir}/root is on ${dir}/root (tmpfs`);
    expect(c!.detail).toContain('without nosuid');
  }, 120_000);
  it('is ok when it is mounted nosuid', () => {
    expect(doctorWith('rw,nosuid').map((c) => c.status)).toEqual(['ok']);
  }, 120_000);
  it('says nothing for a read-only policy: nothing is written there', () => {
    expect(doctorWith('rw', 'ro.yaml')).toEqual([]);
  }, 120_000);
});
