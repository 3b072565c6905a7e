// Defaults of `audit --metrics` and `--check`, shared by the help text
// (command.ts) and the implementation (run.ts) without loading the latter.
// A client whose last success is older than `history` is taken as retired
// (no longer expected to back up); any refusal in the look-back window warns,
// more than 10 is critical.
export const CHECK_DEFAULTS = { stale: '26h', history: '30d', lookback: '24h', refusalsWarning: '0', refusalsCritical: '10' } as const;
