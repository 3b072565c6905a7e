// `audit --check`: a check in the Monitoring Plugins convention (Nagios,
// Icinga, Naemon, Checkmk): exit 0/1/2/3 for OK/WARNING/CRITICAL/UNKNOWN, one
// first line `GATEKEEPER STATE - text | perfdata`, details on the lines after.
// Perfdata is `'label'=value[UOM];warn;crit;min;max`. Text the clients chose
// (or that came from a forwarded log: host, policy) is shown escaped, and a
// `|` in it is escaped too: it would start the perfdata.
import { age, localTime, visible } from './format.js';
import { lastGood, type HealthGroup } from '../join/health.js';

/** The plugin states, once: exit status and the word the first line carries. */
export const CHECK_STATES = {
  ok: { exit: 0, label: 'OK' },
  warning: { exit: 1, label: 'WARNING' },
  critical: { exit: 2, label: 'CRITICAL' },
  unknown: { exit: 3, label: 'UNKNOWN' },
} as const;
export type CheckState = keyof typeof CHECK_STATES;
/** Worse first: how states combine. */
const SEVERITY: readonly CheckState[] = ['ok', 'warning', 'unknown', 'critical'];
const worse = (a: CheckState, b: CheckState): CheckState => (SEVERITY.indexOf(a) >= SEVERITY.indexOf(b) ? a : b);

export const SERVICE = 'GATEKEEPER';

export interface CheckOptions {
  now: number;
  /** CRITICAL when the last success is older than this. */
  staleMs: number;
  /** Only clients that succeeded within this long are expected to keep backing up. */
  historyMs: number;
  /** The window refusals are counted in. */
  lookbackMs: number;
  /** Refusals in the window above which the state is WARNING / CRITICAL (Monitoring Plugins: alert when the value exceeds N). */
  refusalsWarning: number | null;
  refusalsCritical: number | null;
}

export interface CheckResult {
  state: CheckState;
  /** The plugin output: first line, perfdata, details. */
  text: string;
}

interface Problem {
  state: CheckState;
  text: string;
}

/** Client text for a plugin line: control characters shown as escapes, and `|` too. */
export function pluginText(text: string): string {
  return visible(text).replace(/\|/g, '\\x7c');
}

/** A perfdata label: quoted; a quote doubled; `=`, `|` and anything invisible replaced (the guidelines allow neither `=` nor `'` unescaped). */
export function perfLabel(text: string): string {
  const clean = visible(text).replace(/[=|]/g, '_').replace(/'/g, "''");
  return `'${clean}'`;
}

const perfNumber = (v: number | null) => (v === null ? '' : String(v));

/** `'label'=value[UOM];warn;crit;min;max`, trailing empty fields dropped. */
export function perfItem(label: string, value: number, uom: string, warn: number | null, crit: number | null, min: number | null, max: number | null = null): string {
  const fields = [`${value}${uom}`, perfNumber(warn), perfNumber(crit), perfNumber(min), perfNumber(max)];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return `${perfLabel(label)}=${fields.join(';')}`;
}

/** A window's length as an admin gave it: `24h`, `26h`, `30d`. */
function span(ms: number): string {
  if (ms % 3600e3 === 0 && ms <= 72 * 3600e3) return `${ms / 3600e3}h`;
  return age(ms);
}

function who(g: HealthGroup): string {
  const client = g.client === '' ? '(unknown client)' : g.client;
  return `${client} (policy ${g.policy}${g.host ? `, host ${g.host}` : ''})`;
}

function perfName(g: HealthGroup): string {
  return [g.host, g.policy, g.client || '-'].filter(Boolean).join('/');
}

export function evaluateCheck(groups: readonly HealthGroup[], o: CheckOptions): CheckResult {
  const problems: Problem[] = [];
  const perf: string[] = [];
  const details: string[] = [];
  let expected = 0;
  let fresh = 0;
  let refusals = 0;
  const staleS = Math.round(o.staleMs / 1000);
  const lookback = span(o.lookbackMs);

  for (const g of groups) {
    const name = pluginText(who(g));
    const good = lastGood(g);
    const what = good.finished ? 'successful backup' : 'allowed session';
    const unsure = good.finished ? '' : ' (whether runs finish is unknown: set transferLog in the policy)';
    // Expected to back up: it succeeded, or was at least allowed to try, within --history. A client whose
    // backups broke long ago but that keeps connecting stays CRITICAL; one that stopped connecting retires.
    const within = (t: number | null) => t !== null && o.now - t <= o.historyMs;
    const active = within(good.t) || within(g.lastAllowed);
    if (active && good.t !== null) {
      expected++;
      const ageMs = Math.max(0, o.now - good.t);
      perf.push(perfItem(`${perfName(g)} age`, Math.round(ageMs / 1000), 's', null, staleS, 0));
      if (ageMs > o.staleMs) problems.push({ state: 'critical', text: `${name}: no ${what} for ${age(ageMs)}${unsure}` });
      else {
        fresh++;
        details.push(`${name}: last ${what} ${age(ageMs)} ago (${localTime(good.t).slice(0, 16)})${unsure}`);
      }
    } else if (active) {
      problems.push({ state: 'warning', text: `${name}: allowed, but no run has finished successfully` });
    }
    const refused = g.recent.refused;
    refusals += refused;
    if (refused > 0 || o.refusalsWarning !== null || o.refusalsCritical !== null) {
      perf.push(perfItem(`${perfName(g)} refused`, refused, '', o.refusalsWarning, o.refusalsCritical, 0));
    }
    const codes = [...g.recent.refusedByCode].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([c, n]) => `${c} ×${n}`);
    const refusedText = `${name}: ${refused} refused in ${lookback}${codes.length ? ` (${codes.join(', ')})` : ''}`;
    if (o.refusalsCritical !== null && refused > o.refusalsCritical) problems.push({ state: 'critical', text: refusedText });
    else if (o.refusalsWarning !== null && refused > o.refusalsWarning) problems.push({ state: 'warning', text: refusedText });
    else if (refused > 0) details.push(refusedText);
  }

  let state: CheckState = 'ok';
  for (const p of problems) state = worse(state, p.state);
  let summary: string;
  if (problems.length === 0) {
    summary = `${fresh} client${fresh === 1 ? '' : 's'} backed up within ${span(o.staleMs)}, ${refusals} refused in ${lookback}`;
  } else {
    // The worst first; the first line stays readable on a status page.
    const sorted = [...problems].sort((a, b) => SEVERITY.indexOf(b.state) - SEVERITY.indexOf(a.state));
    const shown = sorted.slice(0, 3).map((p) => p.text);
    summary = shown.join('; ') + (sorted.length > 3 ? `; and ${sorted.length - 3} more` : '');
  }
  const lines = [`${SERVICE} ${CHECK_STATES[state].label} - ${summary}${perf.length ? ` | ${perf.join(' ')}` : ''}`];
  // Details: every problem when the first line could not name them all, then what is fine.
  if (problems.length > 3) lines.push(...problems.map((p) => p.text));
  lines.push(...details);
  if (expected === 0 && groups.length > 0 && problems.length === 0) lines.push(`no client has backed up within ${span(o.historyMs)}`);
  return { state, text: lines.join('\n') + '\n' };
}

/** The UNKNOWN answer: bad arguments, nothing readable. */
export function unknown(message: string): CheckResult {
  return { state: 'unknown', text: `${SERVICE} ${CHECK_STATES.unknown.label} - ${pluginText(message)}\n` };
}
