// `install --metrics-dir DIR`: keep DIR/gatekeeper.prom fresh for
// node_exporter's textfile collector, every 5 minutes: a systemd service and
// timer where systemd runs (or where --systemd-dir names the unit directory),
// else a cron.d entry. The files are ordinary planned changes, recorded in
// the manifest, so `uninstall --all` removes them like any other file.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EX_USAGE, GatekeeperError } from '../exit.js';
import { run } from '../sshd/run.js';
import { SYSTEMCTL } from '../sshd/reload.js';
import { fillTemplate, TEMPLATES, type Assets } from './assets.js';
import type { Change } from './changes.js';
import { readOrNull } from './fsutil.js';

export const METRICS_FILE = 'gatekeeper.prom';
export const UNIT = 'gatekeeper-metrics';
export const TIMER = `${UNIT}.timer`;
export const CRON_FILE = UNIT; // cron.d ignores names with a dot
export const SYSTEMD_DIR = '/etc/systemd/system';
export const CRON_DIR = '/etc/cron.d';
/** systemd is PID 1 (sd_booted(3)). */
export const systemdRuns = (): boolean => existsSync('/run/systemd/system');

export interface MetricsScheduleOptions {
  metricsDir: string;
  /** Force the systemd units into this directory. */
  systemdDir?: string;
  /** Force a cron.d entry into this directory. */
  cronDir?: string;
  /** install --report FILE: the same schedule also writes `audit --html FILE`. */
  report?: string;
}

export interface MetricsPlan {
  kind: 'systemd' | 'cron';
  output: string;
  command: string;
  /** The `audit --html` command line, with --report. */
  reportCommand: string | null;
  changes: Change[];
  /** Whether the timer is the system's own (then systemctl enables it). */
  activate: boolean;
}

/** The files that run `audit --metrics --output DIR/gatekeeper.prom` every 5 minutes. */
export function planMetricsSchedule(o: MetricsScheduleOptions, launcher: string, policyArgs: string, assets: Assets): MetricsPlan {
  if (o.systemdDir !== undefined && o.cronDir !== undefined) throw new GatekeeperError('give --systemd-dir or --cron-dir, not both', EX_USAGE, 'usage');
  const kind = o.cronDir !== undefined ? 'cron' : o.systemdDir !== undefined || systemdRuns() ? 'systemd' : 'cron';
  const dir = o.metricsDir.replace(/\/+$/, '');
  const output = join(dir, METRICS_FILE);
  const command = `${launcher} audit --metrics --output ${output}${policyArgs}`;
  const reportCommand = o.report === undefined ? null : `${launcher} audit --html ${o.report}${policyArgs}`;
  const template = (name: (typeof TEMPLATES)[number]) => assets.template(name).toString('utf8');
  const file = (path: string, text: string, label: string): Change => ({ path, before: readOrNull(path), after: Buffer.from(text), mode: 0o644, uid: 0, gid: 0, label });
  if (kind === 'systemd') {
    const unitDir = o.systemdDir ?? SYSTEMD_DIR;
    // A oneshot service may have several ExecStart lines, run in order; the report's directory is writable too.
    const report = reportCommand === null ? '' : `\nExecStart=${reportCommand}\nReadWritePaths=${dirname(o.report!)}`;
    return {
      kind,
      output,
      command,
      reportCommand,
      activate: o.systemdDir === undefined || o.systemdDir === SYSTEMD_DIR,
      changes: [
        file(join(unitDir, `${UNIT}.service`), fillTemplate(template('gatekeeper-metrics.service.in'), { COMMAND: command, DIR: dir, REPORT: report }), 'metrics service'),
        file(join(unitDir, TIMER), fillTemplate(template('gatekeeper-metrics.timer.in'), {}), 'metrics timer (every 5 minutes)'),
      ],
    };
  }
  const cronDir = o.cronDir ?? CRON_DIR;
  const report = reportCommand === null ? '' : `\n*/5 * * * * root ${reportCommand}`;
  return { kind, output, command, reportCommand, activate: false, changes: [file(join(cronDir, CRON_FILE), fillTemplate(template('gatekeeper-metrics.cron.in'), { COMMAND: command, REPORT: report }), 'metrics cron entry (every 5 minutes)')] };
}

/** `systemctl daemon-reload` and enable (or disable) the timer, where systemd runs; a sentence for the report. */
export async function systemdTimer(action: 'enable' | 'disable'): Promise<string> {
  if (!systemdRuns() || !existsSync(SYSTEMCTL)) return `systemd does not run here: ${TIMER} not ${action}d`;
  const steps: [string, string[]][] =
    action === 'enable'
      ? [
          ['daemon-reload', ['daemon-reload']],
          [`enable --now ${TIMER}`, ['enable', '--now', TIMER]],
        ]
      : [
          [`disable --now ${TIMER}`, ['disable', '--now', TIMER]],
          ['daemon-reload', ['daemon-reload']],
        ];
  for (const [what, args] of steps) {
    const r = await run(SYSTEMCTL, args);
    if (r.code !== 0) return `systemctl ${what} failed: ${(r.stderr || r.stdout).trim()}`;
  }
  return `systemctl ${action} --now ${TIMER}`;
}
