// The schedule enroll writes: a systemd oneshot service plus a timer (the
// certbot model: OnCalendar, RandomizedDelaySec, Persistent=true), or one cron
// line. Pure: text in, text out; the caller writes the files.

/** Characters a word may hold in a unit's ExecStart or a cron line without any quoting question (no %, quotes, $, \, spaces). */
export const SAFE_WORD = /^[A-Za-z0-9_@+=:,./-]+$/;

export interface Slot {
  /** HH:MM the timer fires. */
  at: string;
  /** Seconds of random delay after it (the window's room, at most 30 minutes). */
  delay: number;
  /** The time zone OnCalendar is read in (the policy's), or null for the local one. */
  timezone: string | null;
}

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};
const hhmm = (n: number): string => `${String(Math.floor(n / 60) % 24).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}`;

/**
 * When to run: --schedule when given (it must fall inside the window when the
 * policy has one), else the window's first range's start; without a window 02:30.
 * The random delay stays inside the window: half of what is left of it, at most 30 minutes.
 */
export function pickSlot(window: { ranges: string[]; timezone: string } | null, schedule: string | undefined): Slot | string {
  if (schedule !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(schedule)) return `--schedule ${JSON.stringify(schedule)} is not HH:MM`;
  if (!window || window.ranges.length === 0) return { at: schedule ?? '02:30', delay: 1800, timezone: null };
  for (const r of window.ranges) {
    const m = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(r);
    if (!m) continue;
    const start = minutes(m[1]!);
    let end = minutes(m[2]!);
    if (end <= start) end += 24 * 60;
    let at = schedule === undefined ? start : minutes(schedule);
    if (at < start) at += 24 * 60;
    if (at >= start && at < end) {
      const delay = Math.max(0, Math.min(1800, Math.floor(((end - at) * 60) / 2)));
      return { at: hhmm(at), delay, timezone: window.timezone };
    }
  }
  return schedule === undefined
    ? `the policy's window ${window.ranges.join(', ')} has no range enroll can read`
    : `--schedule ${schedule} is outside the policy's backup window ${window.ranges.join(', ')} (${window.timezone}): the gate would refuse the pull`;
}

export interface Units {
  service: string;
  timer: string;
}

export function systemdUnits(name: string, host: string, argv: readonly string[], slot: Slot): Units {
  const service = [
    '[Unit]',
    `Description=gatekeeper backup pull from ${host}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${execLine(argv)}`,
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
  ].join('\n');
  const timer = [
    '[Unit]',
    `Description=gatekeeper backup pull from ${host}, nightly inside the policy's window`,
    '',
    '[Timer]',
    `OnCalendar=*-*-* ${slot.at}:00${slot.timezone ? ` ${slot.timezone}` : ''}`,
    `RandomizedDelaySec=${slot.delay}`,
    'Persistent=true',
    `Unit=${name}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { service, timer };
}

/** One cron.d line (user root). cron has no time zone per line: the slot is read in the backup machine's. */
export function cronLine(host: string, argv: readonly string[], slot: Slot): string {
  const [h, m] = slot.at.split(':').map(Number);
  const tz = slot.timezone ? ` (the policy's window is in ${slot.timezone}; cron reads ${slot.at} in this machine's time zone)` : '';
  return `# gatekeeper backup pull from ${host}${tz}\n${m} ${h} * * * root ${execLine(argv)}\n`;
}

/** argv as systemd's ExecStart and sh both read it: safe words bare, the rest in single quotes (the caller has refused ' and %). */
export function execLine(argv: readonly string[]): string {
  return argv.map((w) => (SAFE_WORD.test(w) ? w : `'${w}'`)).join(' ');
}
