// Small statistics for the benchmark: medians and 90th percentiles of
// repeated timings, and ratios between two cases of the same run.

/** The q-quantile (0..1) of numbers, nearest-rank on the sorted copy. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** median, p90, min, n of a list of samples (milliseconds, MB/s, KiB...). */
export function summarize(samples) {
  return {
    n: samples.length,
    median: round(quantile(samples, 0.5)),
    p90: round(quantile(samples, 0.9)),
    min: round(Math.min(...samples)),
    samples: samples.map(round),
  };
}

export function round(x, digits = 2) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function ratio(a, b) {
  return round(a / b, 3);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Nanosecond clock in milliseconds. */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
