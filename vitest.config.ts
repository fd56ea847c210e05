import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { writeRulesRegistry } from './scripts/gen-rules-registry.mjs';

// `npx vitest run <file>` sees a rule added since the last install or build (shared/rules/index.ts).
writeRulesRegistry();

/**
 * The soak first, then Vitest's own order (longest first by the last run's durations, or larger files first
 * on a fresh clone). On a fresh clone the soak, the longest file by far and one of the smallest, otherwise
 * starts last and runs on alone while the other worker idles: about 25 s of the CI run (README, Tests).
 */
class SoakFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const soak = (file: TestSpecification) => /[\\/]test[\\/]soak[\\/]/.test(file.moduleId);
    return [...sorted.filter(soak), ...sorted.filter((file) => !soak(file))];
  }
}

const UNIT = 'test/unit/**/*.test.ts';

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most files wait on emulated round trips, not the CPU: vitest's default (cores - 1) is one worker on the
    // 2-core CI machine, which left the second core idle and the suite twice as long (README, Tests).
    maxWorkers: 2,
    sequence: { sequencer: SoakFirstSequencer },
    projects: [
      // Local clouds, child processes, environment variables and the CLI's state: each file in a fresh module
      // graph. Named to sort before `unit`, whose short files then fill the workers' last gaps.
      { extends: true, test: { name: 'cloud', include: ['test/**/*.test.ts'], exclude: [UNIT] } },
      // Pure code: its files share a worker's modules, which halves the tier's time (its cost is importing).
      { extends: true, test: { name: 'unit', include: [UNIT], isolate: false } },
    ],
  },
});
