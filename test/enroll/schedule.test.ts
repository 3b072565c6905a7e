// The schedule enroll writes, as a pure function: where inside the policy's
// window the timer fires, and how long its random delay may be.
import { describe, expect, it } from 'vitest';
import { cronLine, execLine, pickSlot } from '../../src/enroll/schedule.js';
import { remoteCommand, uninstallArgsOf } from '../../src/enroll/enroll.js';

describe('pickSlot', () => {
  it.each([
    [null, undefined, { at: '02:30', delay: 1800, timezone: null }],
    [{ ranges: ['01:00-05:00'], timezone: 'UTC' }, undefined, { at: '01:00', delay: 1800, timezone: 'UTC' }],
    // Twenty minutes left: the delay is half of it, so the pull still starts inside the window.
    [{ ranges: ['01:00-01:20'], timezone: 'Europe/Berlin' }, undefined, { at: '01:00', delay: 600, timezone: 'Europe/Berlin' }],
    [{ ranges: ['22:00-06:00'], timezone: 'UTC' }, '03:00', { at: '03:00', delay: 1800, timezone: 'UTC' }],
    [{ ranges: ['22:00-06:00'], timezone: 'UTC' }, '05:50', { at: '05:50', delay: 300, timezone: 'UTC' }],
  ])('%j with --schedule %s', (window, schedule, slot) => {
    expect(pickSlot(window, schedule)).toEqual(slot);
  });
  it('refuses a --schedule outside the window, or not HH:MM', () => {
    expect(pickSlot({ ranges: ['01:00-05:00'], timezone: 'UTC' }, '06:00')).toBe("--schedule 06:00 is outside the policy's backup window 01:00-05:00 (UTC): the gate would refuse the pull");
    expect(pickSlot(null, '25:00')).toBe('--schedule "25:00" is not HH:MM');
  });
});

describe('the lines enroll writes', () => {
  it('a cron line runs the same argv at the slot', () => {
    expect(cronLine('srv1', ['/usr/bin/rsync', '-e', '/usr/bin/ssh -i /k', '-a', 'root@srv1:/', '/b/srv1/latest/'], { at: '02:05', delay: 0, timezone: null })).toBe(
      "# gatekeeper backup pull from srv1\n5 2 * * * root /usr/bin/rsync -e '/usr/bin/ssh -i /k' -a root@srv1:/ /b/srv1/latest/\n",
    );
    expect(execLine(['a b', 'c'])).toBe("'a b' c");
  });
  it('the remote command is quoted word by word, with sudo -n when the login is not root', () => {
    expect(remoteCommand('admin', 'gatekeeper', ['install', '--policy', "it's", '--key', '-'])).toBe("sudo -n -- gatekeeper install --policy 'it'\\''s' --key -");
    expect(remoteCommand('root', '/usr/bin/node /opt/gk.mjs', ['uninstall', '--key', '-'])).toBe('/usr/bin/node /opt/gk.mjs uninstall --key -');
  });
  it("uninstall gets install's path options only", () => {
    expect(uninstallArgsOf(['--sshd-config', '/s', '--node', '/n', '--yes', '--prefix=/p', '--authorized-keys', '/a'])).toEqual(['--sshd-config', '/s', '--prefix=/p', '--authorized-keys', '/a']);
  });
});
