// The grant event is appended as root into the log directory install made,
// which belongs to the backup user when that is not root: the last entry is
// the user's ground. A link of theirs is never written through.
import { chownSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendGrantEvent, grantEntry } from '../../src/install/grant.js';
import { parseRecordLine } from '../../src/log/record.js';

const base = mkdtempSync(join(tmpdir(), 'gk-grant-event-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const entry = grantEntry('restore-20261207131530Z', { path: '/srv/data', granted: 1796649330, expires: 1796663730, keepOwners: false, delete: true }, null, 'backup');
const USER = 4321;

describe('appendGrantEvent', () => {
  it("creates the log owned like its directory, so the user's gate can append; appends to it again", () => {
    const dir = join(base, 'user-log');
    mkdirSync(dir, { mode: 0o750 });
    chownSync(dir, USER, USER);
    const log = join(dir, 'gatekeeper.log');
    appendGrantEvent(log, entry);
    appendGrantEvent(log, entry);
    expect(statSync(log)).toMatchObject({ uid: USER, gid: USER });
    expect((statSync(log).mode & 0o777).toString(8)).toBe('640');
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.map((l) => parseRecordLine(l)?.event)).toEqual(['grant', 'grant']);
  });
  it('refuses a hard link or a symlink the user put at the log path, and writes nothing through it', () => {
    const dir = join(base, 'hostile');
    mkdirSync(dir, { mode: 0o750 });
    chownSync(dir, USER, USER);
    const secret = join(base, 'root-only');
    writeFileSync(secret, 'root:secret\n', { mode: 0o600 });
    linkSync(secret, join(dir, 'hard.log'));
    expect(() => appendGrantEvent(join(dir, 'hard.log'), entry)).toThrow(/one link/);
    symlinkSync(secret, join(dir, 'soft.log'));
    expect(() => appendGrantEvent(join(dir, 'soft.log'), entry)).toThrow(/ELOOP|symbolic/);
    expect(readFileSync(secret, 'utf8')).toBe('root:secret\n');
  });
});
