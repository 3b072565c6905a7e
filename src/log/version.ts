// The log record's schema version, apart from the schema itself so that the
// gate can stamp records without loading the schema library.
// 2: a pino line (numeric level, epoch-ms time, pid, hostname, msg); 1: ISO time, level label, reason.
export const RECORD_VERSION = 2;

/** pino's numeric levels for each event: refusals are warnings, failures errors. */
export const LEVELS = { allow: 30, exit: 30, describe: 30, answer: 30, grant: 30, deny: 40, error: 50 } as const;
