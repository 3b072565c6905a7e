// A line `--decision` cannot show, recognised without JSON.parse.
//
// With --decision deny, four lines in five are allow and exit records that
// are read only to be dropped, and JSON.parse was half of the run's time. A
// regular expression runs in Irregexp's native code at a quarter of that
// cost, so a line that matches one of the writers' exact shapes below, and is
// of an event the filter does not show, is dropped here unparsed.
//
// Exactness: the skip counts must come out as they would with JSON.parse and
// checkRecord, so a line is dropped only when it is certainly a valid record.
// The patterns accept a strict subset of what parseLine accepts:
// - plain JSON strings (no backslash, no control character: JSON.parse's
//   grammar for a string without escapes), integers of at most 15 digits
//   (always finite), no whitespace, nothing nested beyond the endpoints and
//   string arrays;
// - the keys the schema requires, in the writer's order, each once; `v` and
//   `event`, which decide what the line is, only at their fixed places;
// - the optional fields after the event, in any order, each value of its
//   schema type, so that even a repeated key (JSON.parse keeps the last)
//   leaves a valid record;
// - a version 1 time in toISOString's form that isoTime reads as finite, a
//   version 2 time of at most 15 digits (within Date's range).
// Anything else (a certificate, a grant, escapes, another key order, a
// syslog or journald frame) goes the full way, as before. The property tests
// in test/audit/prefilter.test.ts hold every line it drops to parseLine's
// verdict: a valid record of an event the filter does not show.
import { EVENTS } from '../../log/record.js';
import { isoTime, MAX_LINE } from './parse.js';

const S = '"[^"\\\\\\u0000-\\u001f]*"';
const N = '-?(?:0|[1-9]\\d{0,14})';
const NS = `(?:null|${S})`;
const SA = `\\[(?:${S}(?:,${S})*)?\\]`;
const EP = `(?:null|\\{"addr":${S},"port":${N}\\})`;
const EVENT = `"(${EVENTS.join('|')})"`;

/** The record's optional fields (record.ts's shared), each with its schema type. */
const OPTIONAL = [
  `,"(?:code|wouldDeny|transferLog)":${S}`,
  `,"status":(?:null|${N})`,
  `,"options":${SA}`,
  `,"exec":"(?:execve|spawn)"`,
  `,"signal":${NS}`,
  `,"rsyncPid":${N}`,
  `,"family":"(?:rsync|openrsync)"`,
  `,"key":${NS}`,
].join('|');

/** The fields before the event, in the order both versions' record() puts them (src/gate/main.ts); family since version 2. */
const SESSION = `"policy":${S},"session":${S}`;
const PEERS = `"user":${NS},"client":${EP},"server":${EP}(?:,"key":${NS})?,"command":${NS},"argv":(?:null|${SA})(?:,"family":"(?:rsync|openrsync)")?`;

// Version 2, pino's line (src/log/writer.ts): level, time, pid, hostname,
// then record() of src/gate/main.ts (v, policy, session, user, client,
// server, key, command, argv, family, event, then the call's own fields), msg last.
const V2 = `"level":${N},"time":(0|[1-9]\\d{0,14}),"pid":${N},"hostname":${S},"v":2,${SESSION},${PEERS},"event":${EVENT}(?:${OPTIONAL})*,"msg":${S}`;
// Version 1 (the gate's own writer before pino came back): a level label,
// then record() (v, time, policy, session, pid, …, argv, event, reason, then
// the call's own fields). The bench's version 1 file puts reason last and has
// no label: the reason may come anywhere after the event.
const V1_OPTIONAL = `${OPTIONAL}|,"hostname":${S}`;
const V1 = `(?:"level":${S},)?"v":1,"time":"(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z)",${SESSION},"pid":${N},${PEERS},"event":${EVENT}(?:${V1_OPTIONAL})*,"reason":${S}(?:${V1_OPTIONAL})*`;

const RECORD = new RegExp(`^\\{(?:${V2}|${V1})\\}$`);

/**
 * For the events a filter shows, a function that gives the time of a line
 * it may drop (a valid record of another event, as parseLine would read
 * it), or NaN when the line must go the full way.
 */
export function unshownLine(shown: ReadonlySet<string>): (line: string) => number {
  return (line) => {
    if (line.length > MAX_LINE || line.charCodeAt(0) !== 0x7b /* { */) return Number.NaN;
    const m = RECORD.exec(line);
    if (m === null) return Number.NaN;
    if (m[2] !== undefined) return shown.has(m[2]) ? Number.NaN : Number(m[1]);
    if (shown.has(m[4]!)) return Number.NaN;
    return isoTime(m[3]!);
  };
}
