// The gate answering the key holder (src/gate/describe.ts) as a real
// process: the welcome for a session without a command, `gatekeeper describe
// --json` against its schema, `gatekeeper check -- CMD`, `describe: false`,
// and `from`. Each answer is logged as a describe event that audit reads.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { toJSONSchema } from 'zod/v4/core';
import { REPO, readLog, runCli, runGate, writeRecorder } from '../helpers/gate.js';
import { tempDir, writePolicy } from '../helpers/policy.js';
import { DescribeSchema } from '../../src/describe/schema.js';

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';
const env = (cmd: string | undefined, client = '203.0.113.9') => ({ SSH_ORIGINAL_COMMAND: cmd, SSH_CONNECTION: `${client} 50123 192.0.2.1 2222`, USER: 'root' });

let dir: string;
let log: string;
let rec: { path: string; out: string };
let pol: string;
beforeEach(() => {
  dir = tempDir();
  log = join(dir, 'gate.log');
  rec = writeRecorder(dir);
  pol = writePolicy(dir, { rsync: '/usr/bin/rsync', log, access: 'read-only', description: 'nightly pull', window: ['01:00-01:01'], timezone: 'UTC' }, 'p.yaml');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the gate describes itself to the key holder', () => {
  it('no command: the welcome on stderr, nothing on stdout, 77 (still no shell), a describe record', () => {
    const r = runGate(['--policy', pol], env(undefined));
    expect(r.status).toBe(77);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(/^gatekeeper: welcome, root: this key runs rsync only, not a shell/);
    expect(r.stderr).toContain('policy:  ');
    expect(r.stderr).toContain('nightly pull');
    expect(r.stderr).toMatch(/access: {2}read-only: pull under \//);
    expect(r.stderr).toMatch(/window: {2}01:00-01:01 \(UTC\), (open|closed) now/);
    expect(r.stderr).toMatch(/rsync: {3}\/usr\/bin\/rsync \d+\.\d+\.\d+\S*, protocol \d+/);
    expect(r.stderr).toContain('try:     rsync -e "ssh -i KEY -p 2222" -a --numeric-ids -x --delete root@192.0.2.1:/ DEST/');
    expect(readLog(log)).toMatchObject([{ event: 'describe', code: 'welcome', command: null, status: 77 }]);
  });

  it('describe --json: the same facts on stdout, valid against docs/describe.schema.json (which is the schema in src/describe)', () => {
    const r = runGate(['--policy', pol], env('gatekeeper describe --json'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const facts = DescribeSchema.parse(JSON.parse(r.stdout.toString()));
    expect(facts).toMatchObject({ user: 'root', client: '203.0.113.9', server: { addr: '192.0.2.1', port: 2222 }, access: 'read-only', pull: true, push: false, daemon: null, root: '/', from: null });
    expect(facts.policy).toEqual({ name: pol, file: pol, description: 'nightly pull' });
    const version = /version\s+(\S+)\s+protocol version (\d+)/.exec(rsyncVersionText())!;
    expect(facts.rsync).toEqual({ path: '/usr/bin/rsync', version: version[1], protocol: Number(version[2]) });
    const doc = JSON.parse(readFileSync(join(REPO, 'docs', 'describe.schema.json'), 'utf8'));
    expect(doc).toEqual({ title: 'gatekeeper describe --json', ...toJSONSchema(DescribeSchema) });
    expect(readLog(log)).toMatchObject([{ event: 'describe', code: 'describe', status: 0 }]);
  });

  it('the command it suggests is one the gate allows: the rsync client sends it and the check form says ALLOW', () => {
    const open = writePolicy(dir, { rsync: rec.path, log, access: 'read-only' }, 'open.yaml');
    const r = runGate(['--policy', open], env(`gatekeeper check -- '${PULL}'`));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.toString()).toBe(`ALLOW  (policy ${open})\nreason: allowed: pull (the server sends)\nwould run: ${rec.path} --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids -- . ./\n   in: /\n`);
    expect(existsSync(rec.out)).toBe(false);
    const push = runGate(['--policy', open], env("gatekeeper check --json -- 'rsync --server -vlogDtpre.iLsfxCIvu . /'"));
    expect(push.status).toBe(77);
    expect(JSON.parse(push.stdout.toString())).toMatchObject({ decision: 'deny', code: 'access', reason: expect.stringMatching(/read-only/) });
    expect(readLog(log)).toMatchObject([{ event: 'describe', code: 'check', status: 0 }, { event: 'describe', code: 'check', status: 77 }]);
    // audit reads the event.
    const a = runCli(['audit', '--log', log, '--json', '--decision', 'describe']);
    expect(a.stdout.toString().trim().split('\n')).toHaveLength(2);
  });

  it('describe: false: every form is refused like any other command', () => {
    const quiet = writePolicy(dir, { rsync: rec.path, log, describe: false }, 'quiet.yaml');
    expect(runGate(['--policy', quiet], env(undefined))).toMatchObject({ status: 77, stderr: expect.stringMatching(/interactive shell was requested/) });
    const d = runGate(['--policy', quiet], env('gatekeeper describe --json'));
    expect(d).toMatchObject({ status: 77, stderr: expect.stringMatching(/^gatekeeper: refused: /) });
    expect(d.stdout.length).toBe(0);
    expect(runGate(['--policy', quiet], env(`gatekeeper check -- '${PULL}'`)).status).toBe(77);
    expect(readLog(log).map((x) => x.event)).toEqual(['deny', 'deny', 'deny']);
  });

  it('a client address outside `from` hears nothing about the policy', () => {
    const only = writePolicy(dir, { rsync: rec.path, log, from: ['198.51.100.0/24'], enforce: false }, 'only.yaml');
    for (const cmd of [undefined, 'gatekeeper describe --json', `gatekeeper check -- '${PULL}'`]) {
      const r = runGate(['--policy', only], env(cmd));
      expect(r.status).toBe(77);
      expect(r.stdout.length).toBe(0);
      expect(r.stderr).toBe('gatekeeper: refused: client address 203.0.113.9 is not in the policy\'s "from" list\n');
    }
    expect(readLog(log).map((x) => `${x.event}:${x.code}`)).toEqual(['deny:from', 'deny:from', 'deny:from']);
    expect(runGate(['--policy', only], env('gatekeeper describe --json', '198.51.100.7')).status).toBe(0);
  });

  it('forms that are not exactly these are decided as usual (refused: not rsync)', () => {
    for (const cmd of ['gatekeeper describe --json x', 'gatekeeper check', `gatekeeper check '${PULL}'`, 'gatekeeper describe; id']) {
      const r = runGate(['--policy', pol], env(cmd));
      expect(r.status, cmd).toBe(77);
      expect(r.stdout.length).toBe(0);
    }
    expect(readLog(log).every((x) => x.event === 'deny')).toBe(true);
  });
});

import { execFileSync } from 'node:child_process';
function rsyncVersionText(): string {
  return execFileSync('/usr/bin/rsync', ['--version'], { encoding: 'utf8' });
}
