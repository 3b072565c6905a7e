// The policies we ship are valid and mean what their comments say.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicyText, validatePolicy } from '../../src/policy/load.js';
import { REPO } from '../helpers/gate.js';

const load = async (name: string) => {
  const file = join(REPO, 'policies', name);
  return validatePolicy(await parsePolicyText(readFileSync(file, 'utf8'), file), file);
};

describe('shipped policies', () => {
  it('system-backup: the original setup, read-only, custom rsync, one at a time', async () => {
    expect(await load('system-backup.yaml')).toMatchObject({ access: 'read-only', root: '/', rsync: '/usr/local/bin/rsync', maxConnections: 1, delete: false, enforce: true });
  });
  it('system-backup-daemon: daemon over ssh with the sample rsyncd.conf', async () => {
    expect(await load('system-backup-daemon.yaml')).toMatchObject({ daemon: { config: '/etc/gatekeeper/rsyncd.conf' }, maxConnections: 1 });
    const conf = readFileSync(join(REPO, 'install', 'rsyncd.conf'), 'utf8');
    expect(conf).toMatch(/^\[system\]$/m);
    expect(conf).toMatch(/^\s*path = \/$/m);
    expect(conf).toMatch(/^\s*list = false$/m);
    expect(conf).toMatch(/^max connections = 1$/m);
  });
  it('push-backup: write-only, deletions mirrored, links munged, setuid bits stripped (said explicitly)', async () => {
    expect(await load('push-backup.yaml')).toMatchObject({ access: 'write-only', root: '/srv/backups/HOST', delete: true, mungeLinks: true, setuid: 'strip' });
    expect(readFileSync(join(REPO, 'policies', 'push-backup.yaml'), 'utf8')).toMatch(/^setuid: strip$/m);
  });
});
