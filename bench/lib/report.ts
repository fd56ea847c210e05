/**
 * One JSON line per benchmark on stdout, everything else on stderr, so `npm run bench | jq` works and the
 * lines can be compared across runs. `ratio` is always measured / floor, both from the same run.
 */
export interface BenchLine {
  bench: string;
  ratio: number;
  /** The acceptance goal for `ratio`, or for the figure `goalOf` names; absent where the issue sets none. */
  goal?: number;
  goalOf?: string;
  met?: boolean;
  smoke: boolean;
  [figure: string]: unknown;
}

export function emit(line: BenchLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function note(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** `OSSGUARD_BENCH_SMOKE=1` (or `--smoke`) scales every benchmark down to seconds, for CI. */
export const SMOKE = process.env.OSSGUARD_BENCH_SMOKE === '1' || process.argv.includes('--smoke');

/**
 * The smoke run fails on a figure more than this many times its smoke goal (#24: "the smoke run's noise
 * allowance"); below it a miss is printed only. BENCHMARKS.md says how the smoke goals were measured.
 */
export const SMOKE_ALLOWANCE = 1.5;

/** The full-size figure, or the smoke one. */
export const scaled = (full: number, smoke: number): number => (SMOKE ? smoke : full);
