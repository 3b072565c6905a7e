// `audit --metrics`: the Prometheus text exposition format (version 0.0.4),
// for node_exporter's textfile collector. Every metric family is defined once,
// below, as data: name, type, help and labels. Names follow Prometheus's
// naming guide: base units (`_seconds`, `_bytes`), `_timestamp_seconds` for
// points in time, no `_total` (counts over a look-back window go up and down:
// gauges), `_info` with value 1 for the version. Labels have bounded values:
// host, policy and client (groups are capped, health.ts), and a refusal code
// from a closed list (src/log/codes.ts); the certificate families have the
// key ID instead of the client (capped on their own, health.ts: MAX_KEY_IDS),
// so that a CA's naming never multiplies the client families. Every series carries every label of
// its family; an unknown host or client is the empty string, which Prometheus
// treats as the label being absent.
import { VERSION } from '../../version.js';
import { type CertGroup, type HealthGroup } from '../join/health.js';

type Labels = readonly string[];
export interface Family {
  name: string;
  type: 'gauge';
  help: string;
  labels: Labels;
}

const GROUP = ['host', 'policy', 'client'] as const;
const CERT = ['host', 'policy', 'key_id'] as const;

export const FAMILIES = {
  buildInfo: { name: 'gatekeeper_build_info', type: 'gauge', help: 'gatekeeper that computed these metrics; always 1', labels: ['version'] },
  computed: { name: 'gatekeeper_metrics_computed_timestamp_seconds', type: 'gauge', help: 'When these metrics were computed from the logs', labels: [] },
  lookback: { name: 'gatekeeper_lookback_seconds', type: 'gauge', help: 'Length of the look-back window the session counts cover', labels: [] },
  lastSuccess: {
    name: 'gatekeeper_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'When the last rsync run that finished successfully (exit status 0 or 24) ended; needs the transfer log or the spawn fallback',
    labels: GROUP,
  },
  lastAllowed: { name: 'gatekeeper_last_allowed_timestamp_seconds', type: 'gauge', help: 'When the last session was allowed', labels: GROUP },
  lastRefused: { name: 'gatekeeper_last_refused_timestamp_seconds', type: 'gauge', help: 'When the last session was refused', labels: GROUP },
  allowed: { name: 'gatekeeper_allowed_sessions', type: 'gauge', help: 'Sessions allowed within the look-back window', labels: GROUP },
  refused: { name: 'gatekeeper_refused_sessions', type: 'gauge', help: 'Sessions refused within the look-back window', labels: GROUP },
  failed: {
    name: 'gatekeeper_failed_sessions',
    type: 'gauge',
    help: 'Sessions within the look-back window that failed: a configuration or internal error, or an rsync run that ended with a failing status or a signal',
    labels: GROUP,
  },
  refusedByCode: { name: 'gatekeeper_refused_sessions_by_code', type: 'gauge', help: 'Sessions refused within the look-back window, by refusal code', labels: [...GROUP, 'code'] },
  lastTransferEnd: { name: 'gatekeeper_last_transfer_timestamp_seconds', type: 'gauge', help: 'When the last rsync run whose end is known ended, successful or not', labels: GROUP },
  lastTransferStatus: { name: 'gatekeeper_last_transfer_exit_status', type: 'gauge', help: "rsync's exit status of the last run whose end is known (0 and 24 mean success)", labels: GROUP },
  lastTransferSent: { name: 'gatekeeper_last_transfer_sent_bytes', type: 'gauge', help: 'Bytes the server sent in the last run whose end is known (from the transfer log)', labels: GROUP },
  lastTransferReceived: { name: 'gatekeeper_last_transfer_received_bytes', type: 'gauge', help: 'Bytes the server received in the last run whose end is known (from the transfer log)', labels: GROUP },
  certAllowed: { name: 'gatekeeper_certificate_allowed_sessions', type: 'gauge', help: 'Sessions allowed within the look-back window that came with an SSH certificate, by its key ID', labels: CERT },
  certRefused: { name: 'gatekeeper_certificate_refused_sessions', type: 'gauge', help: 'Sessions refused within the look-back window that came with an SSH certificate, by its key ID', labels: CERT },
  certLastAllowed: { name: 'gatekeeper_certificate_last_allowed_timestamp_seconds', type: 'gauge', help: 'When a session with an SSH certificate of this key ID was last allowed', labels: CERT },
  certLastSuccess: {
    name: 'gatekeeper_certificate_last_success_timestamp_seconds',
    type: 'gauge',
    help: 'When the last rsync run of a session with an SSH certificate of this key ID finished successfully (exit status 0 or 24)',
    labels: CERT,
  },
} as const satisfies Record<string, Family>;

type FamilyKey = keyof typeof FAMILIES;

/** A label value as the exposition format wants it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : '\\n'));
}

/** HELP text: backslash and line feed escaped. */
const escapeHelp = (text: string) => text.replace(/[\\\n]/g, (c) => (c === '\\' ? '\\\\' : '\\n'));

/** A sample value: integers as they are, seconds with their milliseconds. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(v);
}

const seconds = (ms: number) => ms / 1000;

export interface MetricsView {
  now: number;
  lookbackMs: number;
  version?: string;
}

/** The whole exposition: one block per family that has samples, families in the order above. */
export function renderMetrics(groups: readonly HealthGroup[], view: MetricsView, certificates: readonly CertGroup[] = []): string {
  const samples = new Map<FamilyKey, { labels: string[]; value: number }[]>();
  const add = (key: FamilyKey, labels: string[], value: number | null) => {
    if (value === null) return;
    const list = samples.get(key) ?? [];
    list.push({ labels, value });
    samples.set(key, list);
  };
  add('buildInfo', [view.version ?? VERSION], 1);
  add('computed', [], seconds(view.now));
  add('lookback', [], seconds(view.lookbackMs));
  for (const g of groups) {
    const l = [g.host, g.policy, g.client];
    add('lastSuccess', l, g.lastSuccess === null ? null : seconds(g.lastSuccess));
    add('lastAllowed', l, g.lastAllowed === null ? null : seconds(g.lastAllowed));
    add('lastRefused', l, g.lastRefused === null ? null : seconds(g.lastRefused));
    add('allowed', l, g.recent.allowed);
    add('refused', l, g.recent.refused);
    add('failed', l, g.recent.failed);
    for (const [code, n] of [...g.recent.refusedByCode].sort(([a], [b]) => (a < b ? -1 : 1))) add('refusedByCode', [...l, code], n);
    const last = g.lastTransfer;
    if (last) {
      add('lastTransferEnd', l, seconds(last.t));
      add('lastTransferStatus', l, last.status);
      add('lastTransferSent', l, last.sent);
      add('lastTransferReceived', l, last.received);
    }
  }
  for (const c of certificates) {
    const l = [c.host, c.policy, c.keyId];
    add('certAllowed', l, c.recent.allowed);
    add('certRefused', l, c.recent.refused);
    add('certLastAllowed', l, c.lastAllowed === null ? null : seconds(c.lastAllowed));
    add('certLastSuccess', l, c.lastSuccess === null ? null : seconds(c.lastSuccess));
  }
  const out: string[] = [];
  for (const key of Object.keys(FAMILIES) as FamilyKey[]) {
    const list = samples.get(key);
    if (!list?.length) continue;
    const f: Family = FAMILIES[key];
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of list) {
      const labels = f.labels.map((name, i) => `${name}="${escapeLabelValue(s.labels[i]!)}"`).join(',');
      out.push(`${f.name}${labels ? `{${labels}}` : ''} ${formatValue(s.value)}`);
    }
  }
  return out.join('\n') + '\n';
}
