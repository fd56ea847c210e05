import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { compilePattern, type EventMatcher } from '../events/eventbridge-pattern';

/**
 * The functions and triggers an s.yaml deploys, read from Serverless Devs' own rendering
 * (`s preview -o json --silent`, F-SDEVS-PREVIEW) so that vars, templates, `${env()}`
 * and the other magic variables resolve exactly as `s deploy` would resolve them. `s preview` prints the
 * whole spec (`{edition, name, access, vars, resources: {<name>: {component, props}}}`) and leaves what
 * it cannot resolve offline, such as `${config('AccountID')}` without credentials, as literal text.
 */

/** fc3's `ITriggerType` enum (F-FC-TRIGGER-TYPES). */
export const TRIGGER_TYPES = [
  'eventbridge',
  'timer',
  'log',
  'http',
  'oss',
  'mns_topic',
  'cdn_events',
  'tablestore',
] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export interface EventBridgeTrigger {
  type: 'eventbridge';
  name: string;
  enabled: boolean;
  /** `Default` is the account's default bus, where ActionTrail events arrive; the local bus is that bus. */
  eventSourceType: string;
  /** The parsed `eventRuleFilterPattern`. */
  pattern: unknown;
  matches: EventMatcher;
}

export interface TimerTrigger {
  type: 'timer';
  name: string;
  enabled: boolean;
  cronExpression: string;
  payload?: string;
}

/** An SLS (log) trigger: invokes the function with shard cursor ranges of a logstore as logs arrive. */
export interface LogTrigger {
  type: 'log';
  name: string;
  enabled: boolean;
  /** From `sourceArn` (`acs:log:<region>:<account>:project/<project>`). */
  project: string;
  /** `sourceConfig.logstore`. */
  logstore: string;
  /** `jobConfig.triggerInterval` in seconds ([3, 600]; fc3 docs): how long a range collects logs. */
  intervalSeconds: number;
  /** `jobConfig.maxRetryTime` ([0, 100]): retries of a failed invocation before the range is given up. */
  maxRetries: number;
  /** `functionParameter`, passed as the event's `parameter`. */
  parameter: Record<string, unknown>;
  /** The triggerConfig as written, for the FC API's GetTrigger/ListTriggers. */
  config: Record<string, unknown>;
}

export interface OtherTrigger {
  type: Exclude<TriggerType, 'eventbridge' | 'timer' | 'log'>;
  name: string;
  config: Record<string, unknown>;
}

export type FunctionTrigger = EventBridgeTrigger | TimerTrigger | LogTrigger | OtherTrigger;

/** What FC needs to run a function: the fc3 props, with `code` resolved to an absolute directory. */
export interface FcFunctionConfig {
  functionName: string;
  region: string;
  /** `<file>.<export>`, e.g. `index.handler`. */
  handler: string;
  codeDir: string;
  memorySize: number;
  /** Seconds. */
  timeout: number;
  environmentVariables: Record<string, string>;
  logConfig?: { project: string; logstore: string };
}

export interface FunctionSpec extends FcFunctionConfig {
  /** The key under `resources:`. */
  resourceName: string;
  runtime: string;
  role?: string;
  triggers: FunctionTrigger[];
}

export interface RenderOptions {
  /** Added to the environment `s preview` runs in, e.g. for `${env('X')}`; also part of the cache key. */
  env?: Record<string, string>;
  /** Default 60 s; a render takes about half a second. */
  timeoutMs?: number;
  /** Path of the `s` CLI script; needed only when this module is bundled and `import.meta.url` is unavailable. */
  sBin?: string;
}

export class SYamlError extends Error {
  override readonly name = 'SYamlError';
}

const defaultSBin = (): string => {
  if (!import.meta.url) throw new SYamlError('pass `sBin` (the @serverless-devs/s CLI script) when bundled');
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@serverless-devs/s/package.json');
  const { bin } = require(manifest) as { bin: { s: string } };
  return resolve(dirname(manifest), bin.s);
};

/** Runs `s preview -o json --silent` (--silent keeps the root-user WARN line out of the JSON). */
export function renderSYaml(file: string, options: RenderOptions = {}): Promise<unknown> {
  const path = resolve(file);
  // `s` writes to files, not pipes: one whose parent ended mid-render (a test worker torn down) spun on a
  // broken pipe for an hour, a core and gigabytes each; with files it finishes its render and exits.
  const outputs = mkdtempSync(join(tmpdir(), 'ossguard-s-preview-'));
  const files = [join(outputs, 'stdout'), join(outputs, 'stderr')] as const;
  const [out, err] = [openSync(files[0], 'w'), openSync(files[1], 'w')];
  return new Promise<unknown>((done, fail) => {
    const child = spawn(
      process.execPath,
      [options.sBin ?? defaultSBin(), 'preview', '-o', 'json', '--silent', '-t', basename(path)],
      { cwd: dirname(path), env: { ...process.env, ...options.env }, stdio: ['ignore', out, err] },
    );
    // `s` may not stop on SIGTERM; one that spun on past its timeout ate a core for half an hour here.
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    let settled = false;
    const settle = (failure: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const [stdout, stderr] = files.map((name) => readFileSync(name, 'utf8'));
      rmSync(outputs, { recursive: true, force: true });
      // `s` prints its errors on stdout and exits 1; a pre-3.x `edition` prints nothing and exits 0.
      const output = `${stdout}${stderr}`.trim();
      if (failure) return fail(new SYamlError(`s preview failed for ${path}: ${output || failure}`));
      try {
        done(JSON.parse(stdout ?? ''));
      } catch {
        fail(
          new SYamlError(
            `s preview printed no JSON for ${path} (is edition 3.0.0?): ${output.slice(0, 500)}`,
          ),
        );
      }
    };
    child.once('error', (error) => settle(error.message));
    child.once('exit', (code, signal) =>
      settle(code === 0 ? undefined : `exited ${signal ? `on ${signal}` : `with ${code}`}`),
    );
  }).finally(() => {
    closeSync(out);
    closeSync(err);
  });
}

const fc3Props = z.looseObject({
  region: z.string().min(1),
  functionName: z.string().min(1),
  runtime: z.string().min(1),
  handler: z.string().regex(/^.+\..+$/, 'must be <file>.<export>'),
  code: z.union([z.string().min(1), z.looseObject({ src: z.string().min(1) })], {
    error: 'must be a local path (or {src: <path>}) for the local FC host',
  }),
  memorySize: z.number().int().default(512),
  timeout: z.number().int().min(1).max(86400).default(3),
  environmentVariables: z
    .record(z.string(), z.string({ error: 'environment values must be strings' }))
    .default({}),
  role: z.string().optional(),
  logConfig: z
    .union([z.literal('auto'), z.looseObject({ project: z.string(), logstore: z.string() })])
    .optional(),
  triggers: z
    .array(
      z.looseObject({
        triggerName: z.string().min(1),
        triggerType: z.enum(TRIGGER_TYPES),
        sourceArn: z.string().optional(),
        triggerConfig: z.record(z.string(), z.unknown()),
      }),
    )
    .default([]),
});

/** fc3's eventbridge trigger config (F-FC-EVENTBRIDGE-TRIGGER). */
const eventBridgeConfig = z.looseObject({
  triggerEnable: z.boolean().default(true),
  eventRuleFilterPattern: z.string(),
  eventSourceConfig: z.looseObject({ eventSourceType: z.string() }).optional(),
});

/** fc3's timer trigger config (F-FC-TIMER-TRIGGER). */
const timerConfig = z.looseObject({
  cronExpression: z.string().min(1),
  enable: z.boolean().default(true),
  payload: z.string().optional(),
});

/**
 * The FC API types both jobConfig fields as integers, and fc3 sends the YAML values unchanged; fc3's own
 * schema says strings but only logs that check (F-FC-LOGTRIGGER-JOBCONFIG). A string is refused here as the
 * API's types say. Defaults are the FC console's (60 s, 3).
 */
const jobNumber = (fallback: number, min: number, max: number) =>
  z
    .number({ error: 'must be an integer (the FC API types jobConfig fields as integers)' })
    .int()
    .min(min)
    .max(max)
    .default(fallback);

const logConfig = z.looseObject({
  enable: z.boolean().default(true),
  sourceConfig: z.looseObject({ logstore: z.string().min(1) }),
  jobConfig: z
    .looseObject({ triggerInterval: jobNumber(60, 3, 600), maxRetryTime: jobNumber(3, 0, 100) })
    .default({ triggerInterval: 60, maxRetryTime: 3 }),
  functionParameter: z.record(z.string(), z.unknown()).default({}),
});

const LOG_SOURCE_ARN = /^acs:log:([^:]*):[^:]*:project\/([^/]+)$/;

const rendered = z.looseObject({
  resources: z.record(z.string(), z.looseObject({ component: z.string(), props: z.unknown() })).default({}),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const path = issue.path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
    return `${where}${path}: ${issue.message}`;
  });
  throw new SYamlError(issues.join('; '));
}

function toTrigger(
  raw: z.infer<typeof fc3Props>['triggers'][number],
  where: string,
  functionRegion: string,
): FunctionTrigger {
  const name = raw.triggerName;
  if (raw.triggerType === 'eventbridge') {
    const config = parse(eventBridgeConfig, raw.triggerConfig, `${where}.triggerConfig`);
    let pattern: unknown;
    try {
      pattern = JSON.parse(config.eventRuleFilterPattern);
    } catch (error) {
      throw new SYamlError(
        `${where}.triggerConfig.eventRuleFilterPattern is not JSON: ${(error as Error).message}`,
      );
    }
    try {
      return {
        type: 'eventbridge',
        name,
        enabled: config.triggerEnable,
        eventSourceType: config.eventSourceConfig?.eventSourceType ?? 'Default',
        pattern,
        matches: compilePattern(pattern),
      };
    } catch (error) {
      throw new SYamlError(`${where}.triggerConfig.eventRuleFilterPattern: ${(error as Error).message}`);
    }
  }
  if (raw.triggerType === 'timer') {
    const config = parse(timerConfig, raw.triggerConfig, `${where}.triggerConfig`);
    return {
      type: 'timer',
      name,
      enabled: config.enable,
      cronExpression: config.cronExpression,
      ...(config.payload === undefined ? {} : { payload: config.payload }),
    };
  }
  if (raw.triggerType === 'log') {
    const config = parse(logConfig, raw.triggerConfig, `${where}.triggerConfig`);
    const [, region, project] = LOG_SOURCE_ARN.exec(raw.sourceArn ?? '') ?? [];
    if (!project) {
      throw new SYamlError(`${where}.sourceArn must be acs:log:<region>:<account>:project/<project>`);
    }
    // "The project and the Function Compute service must be in the same region" (F-FC-LOGTRIGGER-SAME-REGION).
    if (region !== functionRegion) {
      throw new SYamlError(
        `${where}.sourceArn names a project in ${region || 'no region'}, but the function is in ${functionRegion}`,
      );
    }
    return {
      type: 'log',
      name,
      enabled: config.enable,
      project,
      logstore: config.sourceConfig.logstore,
      intervalSeconds: config.jobConfig.triggerInterval,
      maxRetries: config.jobConfig.maxRetryTime,
      parameter: config.functionParameter,
      config: raw.triggerConfig,
    };
  }
  return { type: raw.triggerType, name, config: raw.triggerConfig };
}

/**
 * The fc3 resources of a rendered spec (other components are skipped). `baseDir` is the s.yaml's directory,
 * against which `code` paths resolve.
 */
export function functionsFromRendered(spec: unknown, baseDir: string): FunctionSpec[] {
  const { resources } = parse(rendered, spec, 's preview output');
  return Object.entries(resources)
    .filter(([, resource]) => /^fc3(@|$)/.test(resource.component))
    .map(([resourceName, resource]) => {
      const where = `resources.${resourceName}.props`;
      const props = parse(fc3Props, resource.props, where);
      const code = typeof props.code === 'string' ? props.code : props.code.src;
      return {
        resourceName,
        functionName: props.functionName,
        region: props.region,
        runtime: props.runtime,
        handler: props.handler,
        codeDir: resolve(baseDir, code),
        memorySize: props.memorySize,
        timeout: props.timeout,
        environmentVariables: props.environmentVariables,
        ...(props.role === undefined ? {} : { role: props.role }),
        ...(typeof props.logConfig === 'object'
          ? { logConfig: { project: props.logConfig.project, logstore: props.logConfig.logstore } }
          : {}),
        triggers: props.triggers.map((trigger, i) =>
          toTrigger(trigger, `${where}.triggers[${i}]`, props.region),
        ),
      };
    });
}

const cache = new Map<string, Promise<FunctionSpec[]>>();

/**
 * Renders and reads an s.yaml. Cached per file path, content and `options.env`, so the bus can call this
 * on every event and still see an edited s.yaml at once. Not in the key: files the s.yaml pulls in with
 * `${file()}` and the host's own environment.
 */
export async function loadFunctions(file: string, options: RenderOptions = {}): Promise<FunctionSpec[]> {
  const path = resolve(file);
  const content = await readFile(path);
  const key = createHash('sha256')
    .update(path)
    .update('\0')
    .update(content)
    .update(JSON.stringify(options.env ?? {}))
    .digest('hex');
  let loading = cache.get(key);
  if (!loading) {
    loading = renderSYaml(path, options).then((spec) => functionsFromRendered(spec, dirname(path)));
    cache.set(key, loading);
    // A failed render is not cached: the next call, after a fix, renders again.
    loading.catch(() => cache.delete(key));
  }
  return loading;
}
