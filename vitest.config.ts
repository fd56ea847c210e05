import { defineConfig } from 'vitest/config';
import { writeRulesRegistry } from './scripts/gen-rules-registry.mjs';

// `npx vitest run <file>` sees a rule added since the last install or build (shared/rules/index.ts).
writeRulesRegistry();

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Most files wait on emulated round trips, not the CPU: vitest's default (cores - 1) is one worker on the
    // 2-core CI machine, which left the second core idle and the suite twice as long (README, Tests).
    maxWorkers: 2,
  },
});
