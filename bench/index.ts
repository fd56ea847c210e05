import { burst } from './burst';
import { coldStart } from './cold-start';
import { type BenchLine, emit, note, SMOKE, SMOKE_ALLOWANCE } from './lib/report';
import { logTrigger } from './log-trigger';
import { timeToRemediate } from './remediate';
import { sweepAndDetectionGap } from './sweep';

/**
 * `npm run bench [-- name…]`: every benchmark (or those named), one after another so none disturbs another's
 * timing, each printing its JSON line(s) on stdout as it finishes. `--smoke` (npm run bench:smoke) scales
 * them down to seconds. Exits non-zero if a benchmark could not run or measured nothing. A missed goal is a
 * figure, not a failure: its line says so (`met`) and the run ends with one line per miss, saying by how much.
 * The smoke run judges its lines against goals of its own (each benchmark's `scaled(goal, smokeGoal)`: at its
 * size fixed costs weigh more, BENCHMARKS.md "Smoke run in CI"), and fails only on a figure past its goal by
 * more than SMOKE_ALLOWANCE, the noise a run of seconds on a shared machine shows; a smaller miss is printed.
 */
const BENCHMARKS: Record<string, () => Promise<BenchLine | BenchLine[]>> = {
  'time-to-remediate': timeToRemediate,
  'cold-start': coldStart,
  burst,
  sweep: sweepAndDetectionGap,
  'log-trigger': logTrigger,
};

const asked = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const unknown = asked.filter((name) => !(name in BENCHMARKS));
if (unknown.length > 0) {
  note(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const missed: BenchLine[] = [];
for (const [name, run] of Object.entries(BENCHMARKS)) {
  if (asked.length > 0 && !asked.includes(name)) continue;
  const t0 = performance.now();
  const lines = [await run()].flat();
  for (const line of lines) emit(line);
  const broken = lines.filter((line) => !(Number.isFinite(line.ratio) && line.ratio > 0));
  if (broken.length > 0) throw new Error(`${name}: no usable ratio in ${JSON.stringify(broken)}`);
  missed.push(...lines.filter((line) => line.met === false));
  note(`${name} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
note(`${SMOKE ? 'smoke ' : ''}run took ${((performance.now() - started) / 1000).toFixed(1)} s`);

/** The goal's figure over the goal: above 1 the goal is missed. */
const overBy = (line: BenchLine): number => Number(line[line.goalOf ?? 'ratio']) / Number(line.goal);

for (const line of missed) {
  const figure = line.goalOf ?? 'ratio';
  const which = overBy(line) <= 1 ? '; another figure on its line missed its goal' : '';
  note(
    `missed: ${line.bench} ${figure} ${line[figure]}, goal ${line.goal} (${overBy(line).toFixed(2)}× the goal${which})`,
  );
}
const failed = SMOKE ? missed.filter((line) => overBy(line) > SMOKE_ALLOWANCE) : [];
if (failed.length > 0) {
  note(
    `smoke run failed: ${failed.map((line) => line.bench).join(', ')} past ${SMOKE_ALLOWANCE}× the smoke goal`,
  );
  process.exitCode = 1;
}
