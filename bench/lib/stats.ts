/** Nearest-rank percentile of `values` (need not be sorted); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export const round = (value: number, digits = 2): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

export interface Distribution {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

/** Milliseconds, rounded to 0.01 ms: finer than that is timer noise. */
export function distribution(values: readonly number[]): Distribution {
  return {
    n: values.length,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}
