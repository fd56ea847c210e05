import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
  cycle?: Array<{ name: string }>;
}

/**
 * Probe files dropped into the real tree for one run of the CI's dependency-cruiser config: each breaks one
 * layer rule, with a type-only import where that is the easiest way to break it, since those count too.
 */
const tag = randomBytes(4).toString('hex');
const probe = (folder: string, what: string) => `${folder}/layers-probe-${what}-${tag}.ts`;
const PROBES: Record<string, string> = {
  [probe('shared', 'local')]:
    "import type { EventSink } from '../local/eventbus/bus';\nexport type Sink = EventSink;\n",
  [probe('shared', 'cli')]:
    "import type { RegisterCommand } from '../cli/command';\nexport type R = RegisterCommand;\n",
  [probe('deploy', 'local')]: "export { FUNCTION_ROLE } from '../local/cloud';\n",
  [probe('local', 'deploy')]: "export { declaredActions } from '../deploy/role';\n",
  [probe('local', 'deploy-data')]:
    "import trust from '../deploy/trust-policy.json';\nexport const t = trust;\n",
  [probe('cli/commands', 'command')]: "export { registerScan } from './scan';\n",
  [probe('test', 'cycle-a')]:
    `import type { B } from './layers-probe-cycle-b-${tag}';\nexport type A = { b?: B };\n`,
  [probe('test', 'cycle-b')]:
    `import type { A } from './layers-probe-cycle-a-${tag}';\nexport type B = { a?: A };\n`,
};

let violations: Violation[] = [];

beforeAll(() => {
  for (const [path, text] of Object.entries(PROBES)) writeFileSync(join(ROOT, path), text);
  const run = spawnSync(
    join(ROOT, 'node_modules', '.bin', 'depcruise'),
    [...Object.keys(PROBES), '--config', '.dependency-cruiser.cjs', '--output-type', 'json'],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const output = JSON.parse(run.stdout) as { summary: { violations: Violation[] } };
  violations = output.summary.violations;
}, 120_000);

afterAll(() => {
  for (const path of Object.keys(PROBES)) rmSync(join(ROOT, path), { force: true });
});

const rulesBrokenBy = (path: string): string[] =>
  violations.filter((v) => v.from === path).map((v) => v.rule.name);

describe('the layer rules CI enforces (.dependency-cruiser.cjs)', () => {
  it('refuse shared/ importing local/, even a type only', () => {
    expect(rulesBrokenBy(probe('shared', 'local'))).toContain('shared-is-the-product');
  });

  it('refuse shared/ importing cli/', () => {
    expect(rulesBrokenBy(probe('shared', 'cli'))).toContain('shared-is-the-product');
  });

  it('refuse deploy/ importing local/', () => {
    expect(rulesBrokenBy(probe('deploy', 'local'))).toContain('deploy-does-not-import-local');
  });

  it('refuse local/ importing deploy/ code but let it read the policy files there as data', () => {
    expect(rulesBrokenBy(probe('local', 'deploy'))).toContain('local-does-not-import-deploy-code');
    expect(rulesBrokenBy(probe('local', 'deploy-data'))).toEqual([]);
  });

  it('refuse one CLI command importing another', () => {
    expect(rulesBrokenBy(probe('cli/commands', 'command'))).toContain('commands-do-not-import-commands');
  });

  it('refuse an import cycle, even one of type-only imports', () => {
    // dependency-cruiser reports a cycle once, from whichever of its modules it reached first.
    const fromEitherEnd = [
      ...rulesBrokenBy(probe('test', 'cycle-a')),
      ...rulesBrokenBy(probe('test', 'cycle-b')),
    ];
    expect(fromEitherEnd).toContain('no-cycles');
  });
});
