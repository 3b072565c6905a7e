// The grant event: read as the schema says (checkRecord agrees with
// record.ts on damaged grant objects too), and joined by policy name to the
// sessions that came under it (views/grants.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRecord } from '../../src/audit/read/parse.js';
import { GrantCollector, renderGrants } from '../../src/audit/views/grants.js';
import { paint } from '../../src/audit/views/format.js';
import { grantEntry } from '../../src/install/grant.js';
import { RecordLineSchema } from '../../src/log/record.js';
import { rec } from './helpers.js';

const spec = { path: '/srv/data', granted: 1796649330, expires: 1796663730, keepOwners: true, delete: false, from: ['192.0.2.7'] };
const key = { type: 'ssh-ed25519', blob: 'AAAAC3NzaC1lZDI1NTE5AAAAIGv2Nw6q1m1xgq3Y1ZzF0sWb7c3KqkT0lZ8a8d2+0yqD', comment: 'restore' };

describe('the grant event', () => {
  const entry = grantEntry('restore-20261207131530Z', spec, key, 'root', 'feedfacefeedface');
  const line = { level: 30, time: spec.granted * 1000, pid: 42, hostname: 'srv1', ...(({ reason, ...rest }) => ({ ...rest, msg: reason }))(entry) };

  it('names what was granted, and is a record audit reads', () => {
    expect(entry).toMatchObject({
      v: 2,
      event: 'grant',
      policy: 'restore-20261207131530Z',
      key: expect.stringMatching(/^ssh-ed25519 SHA256:/),
      client: null,
      command: null,
      argv: null,
      grant: { kind: 'restore', path: '/srv/data', granted: '2026-12-07T13:15:30Z', expires: '2026-12-07T17:15:30Z', from: ['192.0.2.7'], keepOwners: true, delete: false },
    });
    expect(entry.reason).toContain('until 2026-12-07T17:15:30Z');
    expect(RecordLineSchema.safeParse(line).success).toBe(true);
    expect(checkRecord(structuredClone(line))).toMatchObject({ event: 'grant', grant: entry.grant });
  });

  it('checkRecord agrees with the schema on a grant object with any field replaced, removed or added', () => {
    const junk = fc.oneof(fc.constant(undefined), fc.constant(null), fc.string(), fc.integer(), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.constant('restore'), fc.constant({}));
    const fields = ['kind', 'path', 'granted', 'expires', 'from', 'keepOwners', 'delete', 'extra'];
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...fields), junk), { maxLength: 3 }), (edits) => {
        const value = structuredClone(line) as Record<string, unknown> & { grant: Record<string, unknown> };
        for (const [k, v] of edits) {
          if (v === undefined) delete value.grant[k];
          else value.grant[k] = v;
        }
        expect(typeof checkRecord(value) !== 'string').toBe(RecordLineSchema.safeParse(value).success);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('GrantCollector', () => {
  it("joins each grant to its policy's sessions on the same host, and to nothing else", () => {
    const c = new GrantCollector();
    const grant = { kind: 'restore' as const, path: '/srv/data', granted: '2026-12-07T13:15:30Z', expires: '2026-12-07T17:15:30Z', from: null, keepOwners: false, delete: true };
    const at = (s: string) => Date.parse(s);
    c.add(rec({ time: '2026-12-07T13:15:30.000Z', event: 'grant', policy: 'restore-A', hostname: 'srv1', key: 'ssh-ed25519 SHA256:k', client: null, command: null, grant, reason: 'granted' }), at('2026-12-07T13:15:30Z'));
    c.add(rec({ time: '2026-12-07T13:20:00.000Z', event: 'allow', policy: 'restore-A', hostname: 'srv1' }), at('2026-12-07T13:20:00Z'));
    c.add({ ...rec({ time: '2026-12-07T13:21:00.000Z', event: 'exit', policy: 'restore-A', hostname: 'srv1', status: 0 }), transfer: { sent: 10, received: 2048, totalSize: 4096, errors: 0, firstError: null } }, at('2026-12-07T13:21:00Z'));
    c.add(rec({ time: '2026-12-07T13:22:00.000Z', event: 'deny', policy: 'restore-A', hostname: 'srv1' }), at('2026-12-07T13:22:00Z'));
    // Another host's policy of the same name, and another policy here: not this grant's.
    c.add(rec({ time: '2026-12-07T13:23:00.000Z', event: 'allow', policy: 'restore-A', hostname: 'srv2' }), at('2026-12-07T13:23:00Z'));
    c.add(rec({ time: '2026-12-07T13:24:00.000Z', event: 'allow', policy: 'nightly', hostname: 'srv1' }), at('2026-12-07T13:24:00Z'));
    const [g, ...rest] = c.result();
    expect(rest).toEqual([]);
    expect(g).toMatchObject({ host: 'srv1', policy: 'restore-A', key: 'ssh-ed25519 SHA256:k', sessions: { allowed: 1, refused: 1, succeeded: 1, failed: 0, received: 2048, last: at('2026-12-07T13:22:00Z') } });
    const text = renderGrants(c.result(), at('2026-12-07T18:00:00Z'), paint(false));
    expect(text).toContain('restore-A ssh-ed25519 SHA256:k: push into /srv/data with --delete, ended 2026-12-07T17:15:30Z');
    expect(text).toContain('sessions: 1 allowed, 1 refused, 1 finished (received 2.0 KiB)');
  });
});
