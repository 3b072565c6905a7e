// `audit --follow` as a process: new records appear as they are appended,
// across rename rotation and copytruncate. Every wait is for an expected
// output line, for as long as it takes (the test's timeout bounds it) or
// until audit exits; no fixed sleeps, no deadline the machine's load can beat.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/policy.js';
import { CLI, line, NODE } from './helpers.js';

const dir = tempDir('gk-audit-follow-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class Follower {
  readonly proc: ChildProcessWithoutNullStreams;
  out = '';
  err = '';
  private waiters: (() => void)[] = [];

  constructor(args: string[]) {
    this.proc = spawn(NODE, [CLI, 'audit', '--policy-dir', '/nonexistent', '--follow', ...args], { env: { PATH: process.env.PATH, TZ: 'UTC' } });
    this.proc.stdout.on('data', (d: Buffer) => {
      this.out += d.toString();
      for (const w of this.waiters) w();
    });
    this.proc.stderr.on('data', (d: Buffer) => (this.err += d.toString()));
    this.proc.on('close', () => {
      for (const w of this.waiters) w();
    });
  }

  /** Resolves once stdout contains `text`; rejects when audit exits without printing it. */
  waitFor(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.out.includes(text)) {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        } else if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
          reject(new Error(`audit exited waiting for ${text}; stdout so far:\n${this.out}\nstderr:\n${this.err}`));
        }
      };
      this.waiters.push(check);
      check();
    });
  }

  stop(): Promise<number | null> {
    return new Promise((resolve) => {
      this.proc.on('exit', (code) => resolve(code));
      this.proc.kill('SIGTERM');
    });
  }
}

const rec = (session: string) => line({ time: new Date().toISOString(), session }) + '\n';

describe('--follow', () => {
  it('survives rename rotation and copytruncate, and reads what the old file got after the rename', async () => {
    const live = join(dir, 'gatekeeper.log');
    writeFileSync(`${live}.1`, rec('rotated-before'));
    writeFileSync(live, rec('history'));
    // --since: history first (rotated sibling too), then the live file from its start.
    const f = new Follower(['--json', '--since', '2000-01-01', '--log', live]);
    try {
      await f.waitFor('"history"');
      expect(f.out.indexOf('"rotated-before"')).toBeLessThan(f.out.indexOf('"history"'));
      expect(f.out.indexOf('"rotated-before"')).toBeGreaterThan(-1);

      appendFileSync(live, rec('appended'));
      await f.waitFor('"appended"');

      // logrotate's default: rename, then the gate's next open creates a new file.
      renameSync(live, `${live}.1`);
      appendFileSync(`${live}.1`, rec('late-write-to-old-file'));
      writeFileSync(live, rec('new-file'));
      await f.waitFor('"new-file"');
      await f.waitFor('"late-write-to-old-file"');

      // copytruncate: same inode, cut to zero, written again.
      truncateSync(live, 0);
      appendFileSync(live, rec('after-truncate'));
      await f.waitFor('"after-truncate"');

      // a record written in two pieces is printed once, whole
      const split = rec('split-write');
      appendFileSync(live, split.slice(0, 40));
      appendFileSync(live, split.slice(40));
      await f.waitFor('"split-write"');
    } finally {
      expect(await f.stop()).toBe(0);
    }
    const sessions = f.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { session: string }).session);
    // The late write to the renamed file and the new file's first record may come in either order.
    const [a, b] = [sessions.indexOf('late-write-to-old-file'), sessions.indexOf('new-file')];
    expect(sessions).toHaveLength(7);
    expect([a, b].sort()).toEqual([3, 4]);
    expect(sessions.filter((_, i) => i !== a && i !== b)).toEqual(['rotated-before', 'history', 'appended', 'after-truncate', 'split-write']);
    expect(f.err, f.err).toBe('');
  });

  it('without --since, only records that arrive from now on; a file that appears later is picked up', async () => {
    const later = join(dir, 'later.log');
    const existing = join(dir, 'existing.log');
    const byPolicy = (policy: string) => line({ time: new Date().toISOString(), policy }) + '\n';
    writeFileSync(existing, byPolicy('oldrecord'));
    const f = new Follower(['--log', existing, '--log', later]);
    try {
      // The header is flushed after the first look at the files: from then on, appends count.
      await f.waitFor('TIME');
      appendFileSync(existing, byPolicy('fresh'));
      await f.waitFor(' fresh ');
      writeFileSync(later, byPolicy('newfile'));
      await f.waitFor(' newfile ');
    } finally {
      expect(await f.stop()).toBe(0);
    }
    expect(f.out).not.toContain('oldrecord');
    expect(f.err).toContain(`waiting for ${later}`);
  });
});
