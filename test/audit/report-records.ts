// Records for the report's split read (split-report.test.ts, html-stream.test.ts):
// version 2 lines as pino writes them, of every event, with certificates,
// transfer logs, spawn and execve, sessions from a small pool.
import fc from 'fast-check';

export const NOW = Date.parse('2026-12-01T06:00:00Z');
const DAY = 86_400_000;

/** Sessions from a small pool, so that allows and exits meet, also across the cut; a few not hex. */
const session = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 30 }).map((i) => (0xabc0 + i).toString(16).padStart(16, '0')) }, { weight: 1, arbitrary: fc.constantFrom('not-hex', 'ABCDEF0123456789', '') });
const commands = ['rsync --server --sender -logDtpre.iLsfxCIvu . /', 'rsync --server -logDtpre.iLsfxCIvu --delete . /x', 'sh -c id', null] as const;

/** A version 2 record as pino writes it: every event, certificates, transfer logs, spawn and execve. */
export const reportRecord = fc
  .record({
    t: fc.integer({ min: NOW - 40 * DAY, max: NOW + DAY }),
    host: fc.constantFrom('srv1', 'srv2'),
    policy: fc.constantFrom('backup', 'web', 'gone'),
    client: fc.constantFrom('192.0.2.7', '198.51.100.2', null),
    session,
    event: fc.constantFrom('allow', 'allow', 'exit', 'exit', 'deny', 'deny', 'error', 'grant', 'describe'),
    status: fc.constantFrom(0, 0, 24, 23, 12),
    signal: fc.constantFrom(null, null, 'SIGKILL'),
    key: fc.constantFrom('ED25519 SHA256:one', 'RSA SHA256:two', null),
    cert: fc.boolean(),
    exec: fc.constantFrom('spawn', 'execve'),
    transferLog: fc.boolean(),
    moved: fc.option(fc.tuple(fc.nat(1e9), fc.nat(1e9)), { nil: undefined }),
    command: fc.constantFrom(...commands),
    code: fc.constantFrom('delete-refused', 'access', 'shell'),
    user: fc.constantFrom('root', 'backup'),
  })
  .map((r) => {
    const base = {
      level: r.event === 'deny' ? 40 : r.event === 'error' ? 50 : 30,
      time: r.t,
      pid: 4242,
      hostname: r.host,
      v: 2,
      policy: r.policy,
      session: r.session,
      user: r.user,
      client: r.client === null ? null : { addr: r.client, port: 50000 },
      server: null,
      ...(r.key ? { key: r.key } : {}),
      ...(r.cert && r.key ? { cert: { keyId: `id-${r.host}`, serial: '7', principals: ['root'], ca: 'ED25519 SHA256:ca', validAfter: null, validBefore: null } } : {}),
      command: r.command,
      argv: null,
      event: r.event,
    };
    const own =
      r.event === 'allow'
        ? { code: 'allowed', exec: r.exec, ...(r.transferLog ? { transferLog: '/var/log/rsync.log' } : {}) }
        : r.event === 'exit'
          ? { exec: 'spawn', status: r.status, signal: r.signal, ...(r.moved ? { transfer: { sent: r.moved[0], received: r.moved[1] } } : {}) }
          : r.event === 'grant'
            ? { grant: { kind: 'restore', path: '/srv', granted: '2026-11-30T00:00:00Z', expires: '2026-11-30T04:00:00Z', from: null, keepOwners: false, delete: false } }
            : r.event === 'describe'
              ? { code: 'described' }
              : { code: r.code, status: r.event === 'deny' ? 77 : 78, ...(r.code === 'delete-refused' ? { options: ['--delete'] } : {}) };
    return JSON.stringify({ ...base, ...own, msg: r.event === 'exit' ? `rsync exited with status ${r.status}` : `${r.event} because ${r.code}` });
  });

