import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionReport, verifyFunction } from '../../cli/commands/verify';
import { deployTarget } from '../../cli/target';
import { deployedFunctions } from '../../deploy/regions';
import type { LocalCloud } from '../../local/cloud';
import type { FunctionSpec } from '../../shared/deployment/syaml';
import { restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { auditRecords, startCloud } from './local-cloud';

/** `ossguard verify` against the local cloud, whose FC API serves the functions its s.yaml deploys. */
let cloud: LocalCloud;
let dir: string;
let functions: FunctionSpec[];

const verify = async (fn: FunctionSpec): Promise<FunctionReport> =>
  verifyFunction(await deployTarget({ local: true }), fn);
const failed = (report: FunctionReport) => report.checks.filter((c) => !c.ok);

beforeAll(async () => {
  cloud = await startCloud();
  dir = mkdtempSync(join(tmpdir(), 'ossguard-verify-'));
  useLocalState(cloud, dir);
  functions = await deployedFunctions({ sYaml: 's.yaml' }, ['cn-hangzhou']);
});

afterAll(async () => {
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
  restoreLocalState();
});

describe('ossguard verify', () => {
  it('finds each deployed guard with its role and triggers, and gets "skipped" for its canary', async () => {
    const reports = await Promise.all(functions.map(verify));
    for (const report of reports) {
      expect(failed(report), `${report.functionName}: ${JSON.stringify(report.checks)}`).toEqual([]);
      expect(report.checks.map((c) => c.name)).toEqual(
        expect.arrayContaining([
          'function',
          'role',
          expect.stringMatching(/^trigger /),
          expect.stringMatching(/^canary/),
        ]),
      );
    }
    expect(reports.map((r) => r.functionName).sort()).toEqual(functions.map((f) => f.functionName).sort());
  });

  it('leaves only audit records of "skipped" canaries behind: no change, no alert', async () => {
    const canaries = (await auditRecords(cloud)).filter((r) => r.actor.userName === 'ossguard-verify');
    const eventDriven = functions.filter((f) => f.triggers.some((t) => t.type === 'eventbridge'));
    expect(canaries.map((r) => r.guard).sort()).toEqual(eventDriven.map((f) => f.functionName).sort());
    expect(new Set(canaries.map((r) => r.decision))).toEqual(new Set(['skipped']));
    expect(cloud.dingtalk.messages()).toEqual([]);
    expect(cloud.smtp.messages()).toEqual([]);
    expect(cloud.oss.bucketNames().filter((b) => b.startsWith('ossguard-verify'))).toEqual([]);
  });

  it('reports a function that is not deployed', async () => {
    const [first] = functions;
    if (!first) throw new Error('s.yaml deploys no function');
    const report = await verify({ ...first, functionName: 'not-deployed' });
    expect(report.ok).toBe(false);
    expect(failed(report)).toEqual([
      { name: 'function', ok: false, detail: expect.stringContaining('FunctionNotFound') },
    ]);
  });

  it('reports a deployed trigger whose filter differs from the s.yaml', async () => {
    const acl = functions.find((f) => f.functionName === 'oss-acl-guard');
    if (!acl) throw new Error('s.yaml deploys no oss-acl-guard');
    const edited = acl.triggers.map((t) =>
      t.type === 'eventbridge' ? { ...t, pattern: { data: { eventName: ['PutBucketAcl'] } } } : t,
    );
    const report = await verify({ ...acl, triggers: edited });
    expect(failed(report)).toEqual([
      { name: 'trigger acl-changes', ok: false, detail: expect.stringContaining('differs from s.yaml') },
    ]);
  });

  it('prints one block per function and exits 0 from the command line', async () => {
    const { code, stdout } = await runCli('verify', '--local', '--regions', 'cn-hangzhou');
    expect(stdout).toMatch(/^ok {3}oss-acl-guard \(cn-hangzhou\)$/m);
    expect(stdout).toMatch(/^ok {3}access-key-guard \(cn-hangzhou\)$/m);
    expect(stdout).toContain('✓ canary');
    expect(code).toBe(0);
  }, 60_000);
});

describe('ossguard verify with a role that lacks a permission', () => {
  let narrow: LocalCloud;
  afterAll(async () => narrow?.stop());

  it('reports the canary failing with AccessDenied when the role cannot read the audit bucket', async () => {
    const template = readFileSync('deploy/role-policy.json', 'utf8').replace(
      '"oss:PutObject", "oss:GetObject"',
      '"oss:PutObject"',
    );
    const file = join(dir, 'role-policy.json');
    writeFileSync(file, template);
    narrow = await startCloud({}, { rolePolicy: readFileSync(file, 'utf8') });
    const state = mkdtempSync(join(tmpdir(), 'ossguard-verify-narrow-'));
    useLocalState(narrow, state);
    try {
      const acl = functions.find((f) => f.functionName === 'oss-acl-guard');
      if (!acl) throw new Error('s.yaml deploys no oss-acl-guard');
      const report = await verify(acl);
      expect(failed(report)).toEqual([
        {
          name: expect.stringMatching(/^canary /),
          ok: false,
          detail: expect.stringContaining('AccessDenied'),
        },
      ]);
    } finally {
      useLocalState(cloud, dir);
      rmSync(state, { recursive: true, force: true });
    }
  }, 60_000);
});
