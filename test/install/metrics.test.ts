// install --metrics-dir: a systemd service and timer (judged by
// systemd-analyze verify) or a cron.d entry, each running `audit --metrics`
// with the installed launcher; uninstall --all takes them away again. Every
// path is a scratch path; no unit is enabled (systemd does not run them here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostKey } from '../sshd/shapes.js';
import { KEYS, cli, installArgs, makeServer, tree, type Server } from './setup.js';

const keyDir = mkdtempSync(join(tmpdir(), 'gk-hostkey-'));
const HOSTKEY = hostKey(keyDir);
const servers: Server[] = [];
const server = () => {
  const s = makeServer('debian', HOSTKEY);
  servers.push(s);
  return s;
};
afterAll(() => {
  for (const s of servers) rmSync(s.base, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});

const ED = join(KEYS, 'id_ed25519.pub');

/** Run a command line the way systemd and cron split ours (no quoting: install allows no spaces in these paths). */
function runCommandLine(line: string): { status: number | null; stderr: string } {
  const [file, ...args] = line.trim().split(/\s+/);
  const r = spawnSync(file!, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

function promtool(file: string): { status: number | null; output: string } {
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: readFileSync(file), encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('install --metrics-dir', () => {
  it('systemd: a service and a 5-minute timer that systemd-analyze verify accepts; the service writes the metrics; uninstall --all removes all of it', () => {
    const s = server();
    const units = join(s.base, 'systemd');
    mkdirSync(units);
    const textfile = join(s.base, 'node-exporter');
    const before = tree(s.base);
    const r = cli(installArgs(s, ED, ['--metrics-dir', textfile, '--systemd-dir', units]));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`changed ${units}/gatekeeper-metrics.timer`);
    const service = join(units, 'gatekeeper-metrics.service');
    const timer = join(units, 'gatekeeper-metrics.timer');
    for (const f of [service, timer]) expect(statSync(f).mode & 0o777).toBe(0o644);
    const launcher = join(s.prefix, 'bin', 'gatekeeper');
    const execStart = /^ExecStart=(.*)$/m.exec(readFileSync(service, 'utf8'))![1]!;
    expect(execStart).toBe(`${launcher} audit --metrics --output ${textfile}/gatekeeper.prom --policy-dir ${s.configDir}/policies`);
    expect(readFileSync(timer, 'utf8')).toMatch(/^OnCalendar=\*:0\/5$/m);

    // systemd's own judgement of the unit files (it also checks that ExecStart's program exists).
    const verify = spawnSync('/usr/bin/systemd-analyze', ['verify', service, timer], { encoding: 'utf8' });
    expect({ status: verify.status, output: `${verify.stdout}${verify.stderr}` }).toEqual({ status: 0, output: '' });

    // What the timer starts, run once: the installed launcher writes the exposition.
    const ran = runCommandLine(execStart);
    expect(ran.status, ran.stderr).toBe(0);
    const prom = join(textfile, 'gatekeeper.prom');
    expect(statSync(prom).mode & 0o777).toBe(0o644);
    expect(readFileSync(prom, 'utf8')).toMatch(/^gatekeeper_build_info\{version="[^"]+"\} 1$/m);
    expect(promtool(prom)).toEqual({ status: 0, output: '' });

    // Idempotent.
    expect(cli(installArgs(s, ED, ['--metrics-dir', textfile, '--systemd-dir', units])).stdout).toContain('nothing to change');

    const u = cli(['uninstall', '--all', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(existsSync(service) || existsSync(timer) || existsSync(prom)).toBe(false);
    expect(tree(s.base)).toEqual(before);
  });

  it('--report FILE: the service also writes audit --html FILE (a second ExecStart, its directory writable); systemd-analyze verify stays clean; uninstall --all removes the report', () => {
    const s = server();
    const units = join(s.base, 'systemd');
    mkdirSync(units);
    const textfile = join(s.base, 'node-exporter');
    const page = join(s.base, 'www', 'backups.html');
    const before = tree(s.base);
    const r = cli(installArgs(s, ED, ['--metrics-dir', textfile, '--systemd-dir', units, '--report', page]));
    expect(r.status, r.stderr).toBe(0);
    const service = join(units, 'gatekeeper-metrics.service');
    const text = readFileSync(service, 'utf8');
    const launcher = join(s.prefix, 'bin', 'gatekeeper');
    const execStarts = [...text.matchAll(/^ExecStart=(.*)$/gm)].map((m) => m[1]!);
    expect(execStarts).toEqual([
      `${launcher} audit --metrics --output ${textfile}/gatekeeper.prom --policy-dir ${s.configDir}/policies`,
      `${launcher} audit --html ${page} --policy-dir ${s.configDir}/policies`,
    ]);
    expect([...text.matchAll(/^ReadWritePaths=(.*)$/gm)].map((m) => m[1])).toEqual([join(s.base, 'www'), textfile]);
    const verify = spawnSync('/usr/bin/systemd-analyze', ['verify', service, join(units, 'gatekeeper-metrics.timer')], { encoding: 'utf8' });
    expect({ status: verify.status, output: `${verify.stdout}${verify.stderr}` }).toEqual({ status: 0, output: '' });
    // What the timer starts: no log yet, so the report cannot be computed (66); with one record it is.
    const log = join(s.base, 'gatekeeper.log');
    writeFileSync(log, `${JSON.stringify({ v: 1, time: new Date().toISOString(), event: 'deny', policy: 'p', session: 's1', pid: 1, user: 'root', client: { addr: '192.0.2.9', port: 1 }, server: null, command: 'ls', argv: null, reason: 'not rsync', code: 'not-rsync', status: 77 })}\n`);
    const ran = runCommandLine(`${execStarts[1]} --log ${log}`);
    expect(ran.status, ran.stderr).toBe(0);
    expect(statSync(page).mode & 0o777).toBe(0o644);
    expect(readFileSync(page, 'utf8')).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
    const u = cli(['uninstall', '--all', ...s.args, '--no-reload']);
    expect(u.status, u.stderr).toBe(0);
    expect(existsSync(page) || existsSync(service)).toBe(false);
    rmSync(log);
    expect(tree(s.base)).toEqual(before);
  });

  it('cron: one cron.d entry every 5 minutes, as root; uninstall --all removes it', () => {
    const s = server();
    const cronDir = join(s.base, 'cron.d');
    const textfile = join(s.base, 'textfile');
    const r = cli(installArgs(s, ED, ['--metrics-dir', textfile, '--cron-dir', cronDir]));
    expect(r.status, r.stderr).toBe(0);
    const entry = join(cronDir, 'gatekeeper-metrics');
    expect(statSync(entry).mode & 0o777).toBe(0o644);
    const jobs = readFileSync(entry, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#') && !/^[A-Z]+=/.test(l));
    expect(jobs).toEqual([`*/5 * * * * root ${join(s.prefix, 'bin', 'gatekeeper')} audit --metrics --output ${textfile}/gatekeeper.prom --policy-dir ${s.configDir}/policies`]);
    const ran = runCommandLine(jobs[0]!.split(' ').slice(6).join(' '));
    expect(ran.status, ran.stderr).toBe(0);
    expect(promtool(join(textfile, 'gatekeeper.prom'))).toEqual({ status: 0, output: '' });
    expect(cli(['uninstall', '--all', ...s.args, '--no-reload']).status).toBe(0);
    expect(existsSync(entry) || existsSync(join(textfile, 'gatekeeper.prom')) || existsSync(textfile)).toBe(false);
  });

  it('--dry-run shows the files and changes nothing; without a directory given, systemd units where systemd runs, else cron.d', () => {
    const s = server();
    const before = tree(s.base);
    const textfile = join(s.base, 'textfile');
    const r = cli(installArgs(s, ED, ['--metrics-dir', textfile, '--dry-run']));
    expect(r.status, r.stderr).toBe(0);
    if (existsSync('/run/systemd/system')) {
      expect(r.stdout).toContain('+++ /etc/systemd/system/gatekeeper-metrics.service (new)');
      expect(r.stdout).toContain('# would run systemctl daemon-reload and systemctl enable --now gatekeeper-metrics.timer');
    } else {
      expect(r.stdout).toContain('+++ /etc/cron.d/gatekeeper-metrics (new)');
    }
    expect(r.stdout).toContain(`audit --metrics --output ${textfile}/gatekeeper.prom`);
    expect(r.stdout).toContain(`# would create directory ${textfile} (0755)`);
    expect(tree(s.base)).toEqual(before);
  });

  it('refuses what cannot be a safe command line or a meaningful choice (64)', () => {
    const s = server();
    expect(cli(installArgs(s, ED, ['--metrics-dir', join(s.base, 'a b'), '--dry-run'])).status).toBe(64);
    expect(cli(installArgs(s, ED, ['--metrics-dir', 'relative', '--dry-run'])).status).toBe(64);
    expect(cli(installArgs(s, ED, ['--metrics-dir', join(s.base, 't'), '--cron-dir', join(s.base, 'c'), '--systemd-dir', join(s.base, 'u'), '--dry-run'])).status).toBe(64);
    expect(cli(installArgs(s, ED, ['--cron-dir', join(s.base, 'c'), '--dry-run'])).status).toBe(64);
    expect(cli(installArgs(s, ED, ['--report', join(s.base, 'r.html'), '--dry-run'])).status).toBe(64);
    expect(cli(installArgs(s, ED, ['--metrics-dir', join(s.base, 't'), '--report', join(s.base, 'a b.html'), '--dry-run'])).status).toBe(64);
  });
});
