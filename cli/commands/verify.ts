import { Readable } from 'node:stream';
import FC, * as $FC from '@alicloud/fc20230330';
import { type Canary, canaryFor } from '../../deploy/canary';
import { deployedFunctions, deployRegions } from '../../deploy/regions';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { ROLE_NAME } from '../../shared/deployment/names';
import type { EventBridgeTrigger, FunctionSpec } from '../../shared/deployment/syaml';
import { compilePattern } from '../../shared/events/eventbridge-pattern';
import { warnIfRootAccount } from '../caller-identity';
import type { RegisterCommand } from '../command';
import type { CloudTarget } from '../target';
import { checkoutPaths, deployTarget, withTargetOptions } from '../target';

/**
 * `ossguard verify`: after `s deploy`, asks FC 3.0 (`@alicloud/fc20230330`; fc3 deploys FC 3.0 functions,
 * which have no service and so cannot be addressed by the FC 2.0 API of `@alicloud/fc2`) about every function
 * the s.yaml deploys: that it exists and runs as ossguard's role, that its triggers carry the s.yaml's
 * filters, and that a canary event is answered "skipped" (see deploy/canary.ts).
 */

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface FunctionReport {
  functionName: string;
  region: string;
  ok: boolean;
  checks: Check[];
}

interface Decision {
  decision?: string;
  reason?: string;
  auditKey?: string;
}

/** FC 3.0 endpoints (fc3 component): management on fcv3.<region>, invocations on <account>.<region>.fc. */
function fcClient(target: CloudTarget, region: string, host: string): FC {
  const config = popConfig(target.credentials, host, region, target.local?.fc);
  // A function may run up to its timeout (60 s) before the invocation answers.
  return sdkClient(FC, { ...config, readTimeout: 90_000 });
}

const errorText = (error: unknown): string =>
  ((error as { code?: string }).code ? `${(error as { code: string }).code}: ` : '') +
  (error instanceof Error ? error.message.split('\n')[0] : String(error));

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function parseJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    return undefined;
  }
}

async function readAll(body: AsyncIterable<Buffer | string> | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body ?? []) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function triggerChecks(spec: FunctionSpec, deployed: $FC.Trigger[]): Check[] {
  return spec.triggers.map((expected) => {
    const name = `trigger ${expected.name}`;
    const found = deployed.find((t) => t.triggerName === expected.name);
    if (!found) return { name, ok: false, detail: 'not deployed' };
    if (found.triggerType !== expected.type) {
      return { name, ok: false, detail: `type ${found.triggerType}, s.yaml says ${expected.type}` };
    }
    if (expected.type !== 'eventbridge') return { name, ok: true, detail: `${expected.type} trigger exists` };
    const config = parseJson(found.triggerConfig) as
      | { triggerEnable?: boolean; eventRuleFilterPattern?: string }
      | undefined;
    const pattern = parseJson(config?.eventRuleFilterPattern);
    if (!sameJson(pattern, expected.pattern)) {
      return {
        name,
        ok: false,
        detail: `filter ${config?.eventRuleFilterPattern ?? '?'} differs from s.yaml`,
      };
    }
    if (config?.triggerEnable !== expected.enabled) {
      return {
        name,
        ok: false,
        detail: `enabled is ${config?.triggerEnable}, s.yaml says ${expected.enabled}`,
      };
    }
    return { name, ok: true, detail: 'filter as in s.yaml' };
  });
}

/** The deployed filter, not the s.yaml's, decides whether EventBridge would deliver the canary. */
function deployedPattern(deployed: $FC.Trigger[], name: string): unknown {
  const config = parseJson(deployed.find((t) => t.triggerName === name)?.triggerConfig) as
    | { eventRuleFilterPattern?: string }
    | undefined;
  return parseJson(config?.eventRuleFilterPattern);
}

async function canaryCheck(
  invoker: FC,
  fn: string,
  trigger: { name: string; pattern: unknown },
  canary: Canary,
): Promise<Check> {
  const name = `canary ${canary.eventName}`;
  if (trigger.pattern === undefined || !compilePattern(trigger.pattern)(canary.event)) {
    return { name, ok: false, detail: `trigger ${trigger.name} would not deliver the canary event` };
  }
  const body = Readable.from([Buffer.from(JSON.stringify(canary.event))]);
  const response = await invoker.invokeFunction(fn, new $FC.InvokeFunctionRequest({ body }));
  const text = await readAll(response.body as AsyncIterable<Buffer> | undefined);
  const errorType = response.headers?.['x-fc-error-type'];
  if (errorType) return { name, ok: false, detail: `${errorType}: ${text.slice(0, 300)}` };
  const decisions = (parseJson(text) as { decisions?: Decision[] } | undefined)?.decisions ?? [];
  const [decision] = decisions;
  if (decisions.length !== 1 || decision?.decision !== 'skipped') {
    return {
      name,
      ok: false,
      detail: `expected one "skipped" decision about ${canary.resource}, got ${text.slice(0, 300)}`,
    };
  }
  return { name, ok: true, detail: `skipped (${decision.reason}); audit record ${decision.auditKey}` };
}

export async function verifyFunction(target: CloudTarget, spec: FunctionSpec): Promise<FunctionReport> {
  const { functionName, region } = spec;
  const checks: Check[] = [];
  const report = () => ({ functionName, region, ok: checks.every((c) => c.ok), checks });
  const manager = fcClient(target, region, `fcv3.${region}.aliyuncs.com`);
  let fn: $FC.Function | undefined;
  try {
    fn = (await manager.getFunction(functionName, new $FC.GetFunctionRequest({}))).body;
  } catch (error) {
    checks.push({ name: 'function', ok: false, detail: errorText(error) });
    return report();
  }
  checks.push({
    name: 'function',
    ok: true,
    detail: `${fn?.runtime}, ${fn?.memorySize} MB, ${fn?.timeout} s`,
  });
  const role = fn?.role ?? '';
  checks.push({
    name: 'role',
    ok: role.endsWith(`:role/${ROLE_NAME}`),
    detail: role || 'none: the function gets no credentials',
  });
  let deployed: $FC.Trigger[] = [];
  try {
    const listed = await manager.listTriggers(functionName, new $FC.ListTriggersRequest({ limit: 100 }));
    deployed = listed.body?.triggers ?? [];
    checks.push(...triggerChecks(spec, deployed));
  } catch (error) {
    checks.push({ name: 'triggers', ok: false, detail: errorText(error) });
  }
  const trigger = spec.triggers.find((t): t is EventBridgeTrigger => t.type === 'eventbridge' && t.enabled);
  const accountId = /^acs:fc:[^:]*:(\d+):/.exec(fn?.functionArn ?? '')?.[1] ?? '';
  const canary = trigger ? canaryFor(trigger.pattern, region, accountId) : undefined;
  if (!trigger || !canary) {
    checks.push({ name: 'canary', ok: true, detail: 'not invoked: no event trigger a canary can stand for' });
    return report();
  }
  const invoker = fcClient(target, region, `${accountId}.${region}.fc.aliyuncs.com`);
  checks.push(
    await canaryCheck(
      invoker,
      functionName,
      { name: trigger.name, pattern: deployedPattern(deployed, trigger.name) },
      canary,
    ).catch((error: unknown) => ({
      name: `canary ${canary.eventName}`,
      ok: false,
      detail: errorText(error),
    })),
  );
  return report();
}

interface VerifyOptions {
  local?: boolean;
  region?: string;
  regions?: string;
  sYaml?: string;
  json?: boolean;
}

export const registerVerify: RegisterCommand = (program, setExit) => {
  withTargetOptions(
    program
      .command('verify')
      .description(
        'After `s deploy`: for every function the s.yaml deploys (once per region of OSSGUARD_REGIONS), check ' +
          "through the FC 3.0 API that it exists with ossguard's role and the s.yaml's triggers, and invoke " +
          'it with a canary event about a bucket or RAM user that does not exist, expecting "skipped".',
      ),
  )
    .option('--regions <list>', 'regions deployed to (default: OSSGUARD_REGIONS, else cn-hangzhou)')
    .option('--s-yaml <file>', "the s.yaml (default: the checkout's)")
    .option('--json', 'one JSON report per function')
    .action(async (options: VerifyOptions) => {
      const target = await deployTarget(options);
      await warnIfRootAccount(target, options);
      const functions = await deployedFunctions(
        { ...checkoutPaths(), ...(options.sYaml ? { sYaml: options.sYaml } : {}) },
        deployRegions(options.regions ?? process.env.OSSGUARD_REGIONS),
      );
      const reports = await Promise.all(functions.map((fn) => verifyFunction(target, fn)));
      for (const report of reports) {
        if (options.json) {
          process.stdout.write(`${JSON.stringify(report)}\n`);
          continue;
        }
        process.stdout.write(`${report.ok ? 'ok  ' : 'FAIL'} ${report.functionName} (${report.region})\n`);
        for (const check of report.checks) {
          process.stdout.write(`     ${check.ok ? '✓' : '✗'} ${check.name}: ${check.detail}\n`);
        }
      }
      if (reports.some((r) => !r.ok)) setExit(1);
    });
};
