import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSoak, type SoakReport } from './checks';
import { runSoak } from './run';

/**
 * The soak at two sizes: `npm test` (and so CI) runs 300 random changes at a 10% fault rate, enough for every
 * change kind to meet faults, redeliveries and both feeds many times over, in three accounts of an organization; `npm run soak` runs 1,000
 * (`SOAK_FULL=1`). For a longer, harsher run: `SOAK_CHANGES=5000 SOAK_FAULT_RATE=0.3 npm run soak`; `SOAK_SEED`
 * replays a run, `SOAK_STRICT=1` fails on decisions rewritten on redelivery (README, Reliability).
 */
const changes = Number(process.env.SOAK_CHANGES ?? (process.env.SOAK_FULL === '1' ? 1000 : 300));
const faultRate = Number(process.env.SOAK_FAULT_RATE ?? 0.1);
const seed = Number(process.env.SOAK_SEED ?? 20261128);
/** Generous for slow CI machines; a run of the default size takes about a minute here. */
const timeoutMs = Number(process.env.SOAK_TIMEOUT_MS ?? Math.max(420_000, changes * 240));

function summary(report: SoakReport): string {
  const { violations, decisionsRewrittenOnRedelivery, ...figures } = report;
  return JSON.stringify(
    {
      ...figures,
      decisionsRewrittenOnRedelivery,
      violationCount: violations.length,
      violations: violations.slice(0, 50),
    },
    null,
    2,
  );
}

describe('soak under injected faults with EventBridge redelivery', () => {
  it(
    `keeps every invariant over ${changes} random changes at a ${faultRate * 100}% fault rate (seed ${seed})`,
    async () => {
      const run = await runSoak({ changes, faultRate, seed, log: (line) => console.log(`[soak] ${line}`) });
      try {
        const report = checkSoak(run, { strict: process.env.SOAK_STRICT === '1' });
        mkdirSync('test-artifacts', { recursive: true });
        writeFileSync(`test-artifacts/soak-${changes}-${faultRate}-${seed}.json`, summary(report));
        console.log(`[soak] ${summary(report)}`);

        expect(report.changes).toBe(changes);
        expect(report.faultsInjected).toBeGreaterThan(0);
        expect(report.violations).toEqual([]);
        expect(report.lost).toBe(0);
      } finally {
        await run.cloud.stop();
      }
    },
    timeoutMs,
  );
});
