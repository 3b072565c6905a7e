// Backup windows through the built gatekeeper as real processes. The gate
// reads the real clock, so each window here is computed from it: one that
// surely excludes the present (it opens two hours from now), one that
// surely includes it. `check --at` tries a window at a chosen time.
import { beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readLog, recorded, runCli, runGate, writeRecorder } from '../helpers/gate.js';
import { tempDir, writePolicy } from '../helpers/policy.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { loadGatePolicy } from '../../src/gate/policy.js';
import { wallClock } from '../../src/window.js';

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';
const env = (cmd: string | undefined, extra: Record<string, string> = {}) => ({ SSH_ORIGINAL_COMMAND: cmd, SSH_CONNECTION: '203.0.113.9 50123 192.0.2.1 22', USER: 'root', ...extra });

const hhmm = (m: number) => {
  const x = ((m % 1440) + 1440) % 1440;
  return `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
};
/** A range from `from` to `to` minutes relative to the wall-clock time now in `zone`. */
function rangeFromNow(zone: string, from: number, to: number): string {
  const w = wallClock(Date.now(), zone);
  const m = w.hour * 60 + w.minute;
  return `${hhmm(m + from)}-${hhmm(m + to)}`;
}
/** Minutes between the wall-clock time a refusal names and the real time now in `zone`. */
function minutesFromNow(reason: string, zone: string): number {
  const shown = /it is now (\d{4}-\d\d-\d\d) (\d\d):(\d\d) \(UTC([+-])(\d\d):(\d\d)\) there/.exec(reason);
  expect(shown, reason).not.toBeNull();
  const [, date, h, mi, sign, oh, om] = shown!;
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const instant = Date.parse(`${date}T${h}:${mi}:00Z`) - offset * 60000;
  expect(wallClock(instant, zone).offset).toBe(offset);
  return Math.abs(Date.now() - instant) / 60000;
}

let dir: string;
let log: string;
let rec: { path: string; out: string };
const pol = (input: PolicyInput, name = 'p.yaml') => writePolicy(dir, { rsync: rec.path, log, access: 'read-only', ...input }, name);
beforeEach(() => {
  dir = tempDir();
  log = join(dir, 'gate.log');
  rec = writeRecorder(dir);
  return () => rmSync(dir, { recursive: true, force: true });
});

describe('the gate and a window', () => {
  it('outside the window: 77, the windows and the time now on stderr, nothing on stdout, nothing run, an outside-window record', () => {
    const range = rangeFromNow('UTC', 120, 180);
    const p = pol({ window: [range], timezone: 'UTC' });
    const r = runGate(['--policy', p], env(PULL));
    expect(r.status).toBe(77);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^gatekeeper: refused: outside this policy's backup window ${range} \\(UTC\\): it is now .* there\\n$`));
    expect(minutesFromNow(r.stderr, 'UTC')).toBeLessThan(10);
    expect(existsSync(rec.out)).toBe(false);
    expect(readLog(log)).toMatchObject([{ event: 'deny', code: 'outside-window', status: 77, reason: r.stderr.slice('gatekeeper: refused: '.length).trimEnd() }]);
    // Again, from the gate's cache of validated policies when root's cache is usable: the keys survived it.
    expect(runGate(['--policy', p], env(PULL))).toMatchObject({ status: 77, stderr: expect.stringContaining(`backup window ${range} (UTC)`) });
  });

  it('inside the window: rsync runs', () => {
    const p = pol({ window: [rangeFromNow('Europe/Berlin', -60, 60), '00:00-00:01'], timezone: 'Europe/Berlin' });
    const r = runGate(['--policy', p], env(PULL));
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(recorded(rec.out)?.args).toEqual(['--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '--', '.', './']);
    expect(readLog(log)).toMatchObject([{ event: 'allow', code: 'allowed' }]);
  });

  it('the connectivity check "true" is allowed outside the window', () => {
    const p = pol({ window: [rangeFromNow('UTC', 120, 180)], timezone: 'UTC' });
    expect(runGate(['--policy', p], env('true'))).toMatchObject({ status: 0, stderr: '' });
    expect(readLog(log)).toMatchObject([{ event: 'allow', code: 'true' }]);
  });

  it("without timezone, the window is in the server's local zone (TZ here)", () => {
    const zone = 'America/New_York';
    const range = rangeFromNow(zone, 120, 180);
    const p = pol({ window: [range] });
    const r = runGate(['--policy', p], env(PULL, { TZ: zone }));
    expect(r.status).toBe(77);
    expect(r.stderr).toContain(`backup window ${range} (America/New_York): it is now`);
    expect(minutesFromNow(r.stderr, zone)).toBeLessThan(10);
    // The same policy in a zone where that range holds the present: allowed.
    const inside = rangeFromNow('Asia/Kolkata', -60, 60);
    writePolicy(dir, { rsync: rec.path, log, access: 'read-only', window: [inside] }, 'p.yaml');
    expect(runGate(['--policy', p], env(PULL, { TZ: 'Asia/Kolkata' })).status).toBe(0);
  });

  it('reads local time only for a policy with a window, and never builds an Intl.DateTimeFormat', () => {
    // A preload that records every Intl.DateTimeFormat made and every local-time read of a Date.
    const spyOut = join(dir, 'spied');
    const spy = join(dir, 'spy.cjs');
    writeFileSync(
      spy,
      `const fs = require('fs'); const note = (w) => fs.appendFileSync(${JSON.stringify(spyOut)}, w + '\\n');
const O = Intl.DateTimeFormat;
Intl.DateTimeFormat = new Proxy(O, { construct(t, a) { note('intl'); return Reflect.construct(t, a); }, apply(t, s, a) { note('intl'); return Reflect.apply(t, s, a); } });
for (const m of ['getHours', 'getTimezoneOffset']) { const f = Date.prototype[m]; Date.prototype[m] = function () { note('local'); return f.call(this); }; }\n`,
    );
    const spied = (p: string, cmd = PULL) => {
      rmSync(spyOut, { force: true });
      const r = runGate(['--policy', p], env(cmd, { NODE_OPTIONS: `--require ${spy}` }));
      const seen = existsSync(spyOut) ? readFileSync(spyOut, 'utf8').trim().split('\n') : [];
      return { status: r.status, intl: seen.filter((x) => x === 'intl').length, local: seen.filter((x) => x === 'local').length };
    };
    const plain = pol({}, 'plain.yaml');
    // The first run validates (the policy chunk), the second may come from the cache: neither reads local time.
    expect(spied(plain)).toEqual({ status: 0, intl: 0, local: 0 });
    expect(spied(plain)).toEqual({ status: 0, intl: 0, local: 0 });
    const windowed = pol({ window: [rangeFromNow('UTC', 120, 180)] }, 'windowed.yaml');
    // The spy sees what it should: a policy with a window reads the clock in its zone.
    expect(spied(windowed)).toMatchObject({ status: 77, intl: 0, local: 2 });
    expect(spied(windowed)).toMatchObject({ status: 77, intl: 0, local: 2 });
  });
});

describe('the gate cache keeps the keys', () => {
  it('a policy with window and timezone comes back from the cache as validated', async () => {
    const cache = join(dir, 'cache');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(cache, { mode: 0o700 });
    const file = join(dir, 'c.yaml');
    writeFileSync(file, 'window:\n  - "22:00-06:00"\n  - "12:00-24:00"\ntimezone: America/New_York\n', { mode: 0o600 });
    const load = () => loadGatePolicy(file, { cacheDir: cache, build: 'b1', checkTrust: false });
    const first = await load();
    const entry = JSON.parse(readFileSync(join(cache, 'policies', `${encodeURIComponent(file)}.json`), 'utf8'));
    expect(entry.policy).toMatchObject({ window: ['22:00-06:00', '12:00-24:00'], timezone: 'America/New_York' });
    const second = await load();
    expect(second.policy).toStrictEqual(first.policy);
  });
});

describe('check --at TIME', () => {
  const p = () => pol({ rsync: '/usr/bin/rsync', window: ['22:00-06:00'], timezone: 'Europe/Berlin' });

  it('decides as if it were TIME: inside and outside the window, in the policy zone', () => {
    const policyFile = p();
    const inside = runCli(['check', '--policy', policyFile, '--at', '2026-12-02T23:30', '--', PULL]);
    expect(inside.status, inside.stderr).toBe(0);
    expect(inside.stdout.toString()).toMatch(/^ALLOW .*\nat: 2026-12-02T22:30:00\.000Z = 2026-12-02 23:30 \(UTC\+01:00\) in Europe\/Berlin\n/);
    const outside = runCli(['check', '--policy', policyFile, '--at', '2026-12-02T14:00:00Z', '--', PULL]);
    expect(outside.status).toBe(77);
    expect(outside.stdout.toString()).toContain("reason: outside this policy's backup window 22:00-06:00 (Europe/Berlin): it is now 2026-12-02 15:00 (UTC+01:00) there");
    const json = JSON.parse(runCli(['check', '--json', '--policy', policyFile, '--at', '2026-12-02T05:59:59+01:00', '--', PULL]).stdout.toString());
    expect(json).toMatchObject({ decision: 'allow', at: '2026-12-02T04:59:59.000Z' });
    expect(JSON.parse(runCli(['check', '--json', '--policy', policyFile, '--at', '2026-12-02T06:00+01:00', '--', PULL]).stdout.toString())).toMatchObject({ decision: 'deny', code: 'outside-window', at: '2026-12-02T05:00:00.000Z' });
  });

  it('at the spring-forward switch: the window 22:00-06:00 runs past the skipped hour', () => {
    const policyFile = p();
    expect(runCli(['check', '--policy', policyFile, '--at', '2026-03-29T03:30', '--', PULL]).status).toBe(0);
    expect(runCli(['check', '--policy', policyFile, '--at', '2026-03-29T06:00', '--', PULL]).status).toBe(77);
  });

  it.each([
    ['yesterday', /^gatekeeper: --at: "yesterday" is not a date and time: give a date and time in ISO 8601/],
    ['2026-02-30T01:00', /is not a valid date and time/],
    ['2026-03-29T02:30', /^gatekeeper: --at: 2026-03-29T02:30 does not exist in Europe\/Berlin: the clocks skip it/],
    ['2026-10-25T02:30', /happens twice in Europe\/Berlin \(the clocks go back\): give the UTC offset, \+02:00 or \+01:00/],
  ])('an invalid TIME %s: usage error 64 with a clear message, no decision', (time, message) => {
    const r = runCli(['check', '--policy', p(), '--at', time, '--', PULL]);
    expect(r.status).toBe(64);
    expect(r.stdout.length).toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('a policy without window: the time changes nothing, and says so', () => {
    const r = runCli(['check', '--policy', pol({ rsync: '/usr/bin/rsync' }), '--at', '2026-12-02T14:00Z', '--', PULL]);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain('at: 2026-12-02T14:00:00.000Z (this policy has no window: the time changes nothing)');
  });
});

describe('policy validate', () => {
  it('a malformed range or an unknown zone: 78, naming the key', () => {
    const bad = pol({ window: ['01:00-05:00', '02:00-02:00'], timezone: 'Europe/Atlantis' } as PolicyInput, 'bad.yaml');
    const r = runCli(['policy', 'validate', bad]);
    expect(r.status).toBe(78);
    expect(r.stdout.toString()).toMatch(/^fail .*window\.1: "02:00-02:00" starts where it ends.*; timezone: "Europe\/Atlantis" is not a time zone name/m);
    const good = pol({ window: ['22:00-06:00'], timezone: 'UTC' }, 'good.yaml');
    const ok = runCli(['policy', 'validate', good]);
    expect(ok.status).toBe(0);
    expect(ok.stdout.toString()).toMatch(/^ok .*good\.yaml: read-only, root \/, rsync .*, window 22:00-06:00 \(UTC\)$/m);
    // The JSON Schema carries the range's form, for editors.
    const schema = JSON.parse(runCli(['policy', 'schema']).stdout.toString());
    expect(new RegExp(schema.properties.window.items.pattern).test('22:00-06:00')).toBe(true);
    expect(new RegExp(schema.properties.window.items.pattern).test('22:00-6:00')).toBe(false);
    expect(schema.properties.timezone.type).toBe('string');
  });
});
