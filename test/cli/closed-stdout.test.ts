// A reader that goes away (`gatekeeper check … | head -1`): every command that
// writes to stdout stops quietly, as coreutils do. The pipe here has lost its
// reader before the command starts (a FIFO opened for reading, opened for
// writing, then its reader closed), so its first write fails with EPIPE every
// time: no race with a `head` that may or may not have exited yet.
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE, NODE } from '../helpers/gate.js';
import { tempDir, writePolicy } from '../helpers/policy.js';

const dir = mkdtempSync(join(tmpdir(), 'gk-epipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A write end of a pipe nobody reads. */
function readerless(): number {
  const fifo = join(dir, `fifo-${Math.random().toString(36).slice(2)}`);
  expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
  const r = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const w = openSync(fifo, constants.O_WRONLY);
  closeSync(r);
  return w;
}

const policyDir = tempDir();
const pol = writePolicy(policyDir, { log: join(policyDir, 'gate.log'), access: 'read-only' }, 'p.yaml');
const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';

describe('stdout closed by its reader', () => {
  it.each([
    ['check (ALLOW)', ['check', '--policy', pol, '--', PULL]],
    ['check (DENY)', ['check', '--policy', pol, '--', 'rsync --server -vlogDtpre.iLsfxCIvu . /etc/']],
    ['check --json', ['check', '--json', '--policy', pol, '--', PULL]],
    ['policy options', ['policy', 'options']],
    ['policy schema', ['policy', 'schema']],
    ['policy validate', ['policy', 'validate', pol]],
  ])('%s: exits 141 as if killed by SIGPIPE, nothing on stderr', (_name, args) => {
    const w = readerless();
    try {
      const r = spawnSync(NODE, [BUNDLE, ...args], { stdio: ['ignore', w, 'pipe'], env: { PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(141);
    } finally {
      closeSync(w);
    }
  });
});
