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
  },
});
