import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { FcFunctionConfig } from '../../shared/deployment/syaml';

/**
 * The local Function Compute: runs a function's bundle the way the FC nodejs runtime does
 * (F-FC-HANDLER-SIGNATURE, F-FC-CONTEXT-FIELDS): each instance is a fresh Node process (worker.cjs) that
 * `require`s the bundle and calls the handler with a Buffer event and an FC-shaped `context`. Instances stay
 * warm and take one invocation at a time; further invocations queue, or start another instance up to
 * `maxInstances`. An invocation that outlives the function's `timeout` kills its instance and fails.
 */

export interface FcCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken: string;
}

export interface InvokeError {
  name: string;
  message: string;
}

export type InvokeResult =
  | { ok: true; requestId: string; result: unknown }
  | { ok: false; requestId: string; error: InvokeError };

export interface FcLogLine {
  functionName: string;
  region: string;
  pid: number;
  /** The invocation the instance was running when the line was written, if any. */
  requestId?: string;
  source: 'stdout' | 'stderr' | 'logger';
  /** `context.logger` method for `logger` lines. */
  level?: string;
  message: string;
}

/** Anything that runs functions; the event bus depends on this rather than on FcHost. */
export interface Invoker {
  invoke(fn: FcFunctionConfig, payload: Buffer | string): Promise<InvokeResult>;
}

export interface FcHostOptions {
  accountId: string;
  /** STS credentials for the function's role; FC hands them to the handler as `context.credentials`. */
  credentialsFor(functionName: string): FcCredentials | Promise<FcCredentials>;
  /** Merged over each function's `environmentVariables`; the local cloud passes its endpoints this way. */
  env?: Record<string, string>;
  /** Instances per function. Default 1. */
  maxInstances?: number;
  /** Path of worker.cjs; needed only when this module is bundled and `import.meta.url` is unavailable. */
  workerScript?: string;
  onLog?(line: FcLogLine): void;
}

interface Job {
  requestId: string;
  payload: Buffer;
  resolve(result: InvokeResult): void;
}

interface Instance {
  child: ChildProcess;
  pid: number;
  job?: Job;
  timer?: NodeJS.Timeout;
  /** Killed, exit pending: takes no new job. */
  dead?: boolean;
}

type WorkerMessage =
  | { type: 'output'; source: 'stdout' | 'stderr'; requestId?: string; message: string }
  | { type: 'log'; requestId: string; level: string; message: string }
  | { type: 'result'; requestId: string; ok: true; value?: unknown; buffer?: string }
  | { type: 'result'; requestId: string; ok: false; error: InvokeError };

type ResolvedOptions = FcHostOptions & Required<Pick<FcHostOptions, 'maxInstances' | 'workerScript'>>;

const failure = (requestId: string, name: string, message: string): InvokeResult => ({
  ok: false,
  requestId,
  error: { name, message },
});

const configOf = (fn: FcFunctionConfig): FcFunctionConfig => ({
  functionName: fn.functionName,
  region: fn.region,
  handler: fn.handler,
  codeDir: fn.codeDir,
  memorySize: fn.memorySize,
  timeout: fn.timeout,
  environmentVariables: { ...fn.environmentVariables },
  ...(fn.logConfig ? { logConfig: { project: fn.logConfig.project, logstore: fn.logConfig.logstore } } : {}),
});

/** Splits a stream of text into lines, holding back the unterminated tail. */
const lineSplitter = (emit: (line: string) => void) => {
  let partial = '';
  return (chunk: string): void => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) emit(line);
  };
};

/** The instances of one function configuration. */
class FunctionPool {
  private readonly instances: Instance[] = [];
  private readonly queue: Job[] = [];
  private retired = false;

  constructor(
    readonly fn: FcFunctionConfig,
    private readonly host: ResolvedOptions,
    private readonly record: (line: FcLogLine) => void,
  ) {}

  invoke(payload: Buffer): Promise<InvokeResult> {
    return new Promise((resolve) => {
      this.queue.push({ requestId: randomUUID(), payload, resolve });
      this.pump();
    });
  }

  pids(): number[] {
    return this.instances.filter((instance) => !instance.dead).map((instance) => instance.pid);
  }

  /** The configuration changed: instances finish what is queued, then go, like FC recycling instances. */
  retire(): void {
    this.retired = true;
    if (this.queue.length > 0) return;
    for (const instance of this.instances) if (!instance.job) this.kill(instance);
  }

  /** Fails queued jobs and kills every instance; resolves once they have exited. */
  async close(): Promise<void> {
    this.retired = true;
    for (const job of this.queue.splice(0)) {
      job.resolve(failure(job.requestId, 'HostClosed', 'the FC host closed'));
    }
    await Promise.all(
      this.instances.map(
        (instance) =>
          new Promise<void>((resolve) => {
            if (instance.child.exitCode !== null || instance.child.signalCode !== null) return resolve();
            instance.child.once('exit', () => resolve());
            this.kill(instance);
          }),
      ),
    );
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const live = this.instances.filter((instance) => !instance.dead);
      const instance =
        live.find((candidate) => !candidate.job) ??
        (this.instances.length < this.host.maxInstances ? this.spawn() : undefined);
      if (!instance) return;
      void this.run(instance, this.queue.shift()!);
    }
  }

  private spawn(): Instance {
    const { fn } = this;
    const child = fork(this.host.workerScript, [], {
      cwd: fn.codeDir,
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // A clean environment like an FC instance's, not the host process's (which may hold real keys).
      env: {
        ...fn.environmentVariables,
        ...this.host.env,
        FC_FUNC_CODE_PATH: fn.codeDir,
        FC_FUNCTION_HANDLER: fn.handler,
        FC_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        FC_FUNCTION_NAME: fn.functionName,
        FC_REGION: fn.region,
        FC_ACCOUNT_ID: this.host.accountId,
        FC_INSTANCE_ID: randomUUID(),
      },
    });
    const instance: Instance = { child, pid: child.pid ?? -1 };
    this.instances.push(instance);
    const lines = (source: 'stdout' | 'stderr') =>
      lineSplitter((message) => this.log(instance, { source, message }));
    // Node itself writes to the pipes (e.g. an uncaught exception's stack); the bundle's output comes over IPC.
    for (const source of ['stdout', 'stderr'] as const)
      child[source]?.setEncoding('utf8').on('data', lines(source));
    const outputs = { stdout: lines('stdout'), stderr: lines('stderr') };
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'output') outputs[message.source](message.message);
      else if (message.type === 'log') this.log(instance, { source: 'logger', ...message });
      else this.onResult(instance, message);
    });
    // Spawning failed (e.g. no such code directory) or the IPC channel broke: this instance is unusable.
    child.on('error', (error) => {
      this.discard(instance);
      const { job } = instance;
      const message = `instance of ${fn.functionName} (code in ${fn.codeDir}) failed: ${error.message}`;
      if (job) this.finish(instance, failure(job.requestId, 'InstanceError', message));
    });
    child.on('exit', (code, signal) => {
      this.discard(instance);
      const { job } = instance;
      const how = signal ?? `code ${code}`;
      if (job) {
        this.finish(
          instance,
          failure(job.requestId, 'InstanceExited', `the instance exited (${how}) mid-invocation`),
        );
      }
      this.pump();
    });
    return instance;
  }

  private log(instance: Instance, line: Pick<FcLogLine, 'source' | 'message' | 'level' | 'requestId'>): void {
    const requestId = line.requestId ?? instance.job?.requestId;
    this.record({
      functionName: this.fn.functionName,
      region: this.fn.region,
      pid: instance.pid,
      source: line.source,
      ...(line.level ? { level: line.level } : {}),
      ...(requestId ? { requestId } : {}),
      message: line.message,
    });
  }

  private onResult(instance: Instance, message: Extract<WorkerMessage, { type: 'result' }>): void {
    if (!message.ok) {
      this.finish(instance, failure(message.requestId, message.error.name, message.error.message));
      return;
    }
    const result = message.buffer === undefined ? message.value : Buffer.from(message.buffer, 'base64');
    this.finish(instance, { ok: true, requestId: message.requestId, result });
  }

  private async run(instance: Instance, job: Job): Promise<void> {
    instance.job = job;
    const { fn } = this;
    let credentials: FcCredentials;
    try {
      credentials = await this.host.credentialsFor(fn.functionName);
    } catch (error) {
      const message = `no credentials for ${fn.functionName}: ${error instanceof Error ? error.message : String(error)}`;
      this.finish(instance, failure(job.requestId, 'CredentialsError', message));
      return;
    }
    if (instance.job !== job) return;
    instance.timer = setTimeout(() => {
      this.kill(instance);
      this.finish(
        instance,
        failure(job.requestId, 'FunctionTimeout', `${fn.functionName} timed out after ${fn.timeout} s`),
      );
    }, fn.timeout * 1000);
    instance.child.send({
      type: 'invoke',
      requestId: job.requestId,
      payload: job.payload.toString('base64'),
      context: {
        requestId: job.requestId,
        credentials,
        function: { name: fn.functionName, handler: fn.handler, memory: fn.memorySize, timeout: fn.timeout },
        service: {
          logProject: fn.logConfig?.project ?? '',
          logStore: fn.logConfig?.logstore ?? '',
          qualifier: 'LATEST',
        },
        region: fn.region,
        accountId: this.host.accountId,
      },
    });
  }

  private kill(instance: Instance): void {
    instance.dead = true;
    instance.child.kill('SIGKILL');
  }

  private discard(instance: Instance): void {
    this.kill(instance);
    const index = this.instances.indexOf(instance);
    if (index !== -1) this.instances.splice(index, 1);
  }

  private finish(instance: Instance, result: InvokeResult): void {
    const { job } = instance;
    if (!job || job.requestId !== result.requestId) return;
    clearTimeout(instance.timer);
    instance.job = undefined;
    instance.timer = undefined;
    job.resolve(result);
    if (this.retired && this.queue.length === 0) this.kill(instance);
    else this.pump();
  }
}

const defaultWorkerScript = (): string => {
  if (!import.meta.url)
    throw new Error('FcHost: pass `workerScript` (the path of local/fc/worker.cjs) when bundled');
  return fileURLToPath(new URL('./worker.cjs', import.meta.url));
};

export class FcHost implements Invoker {
  /** Every line the instances wrote (stdout, stderr, context.logger), in order. */
  readonly logs: FcLogLine[] = [];
  private readonly options: ResolvedOptions;
  private readonly pools = new Map<string, FunctionPool>();
  private readonly retired = new Set<FunctionPool>();

  constructor(options: FcHostOptions) {
    this.options = {
      ...options,
      maxInstances: options.maxInstances ?? 1,
      workerScript: options.workerScript ?? defaultWorkerScript(),
    };
  }

  invoke(fn: FcFunctionConfig, payload: Buffer | string): Promise<InvokeResult> {
    return this.poolFor(fn).invoke(Buffer.isBuffer(payload) ? payload : Buffer.from(payload));
  }

  /** Process ids of the function's live instances. */
  instancePids(functionName: string, region?: string): number[] {
    return [...this.pools.values()]
      .filter(({ fn }) => fn.functionName === functionName && (region === undefined || fn.region === region))
      .flatMap((pool) => pool.pids());
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values(), ...this.retired];
    this.pools.clear();
    this.retired.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  /** FC identifies a function by region and name; a changed configuration gets fresh instances, as on FC. */
  private poolFor(fn: FcFunctionConfig): FunctionPool {
    const key = `${fn.region}/${fn.functionName}`;
    const config = configOf(fn);
    const current = this.pools.get(key);
    if (current && JSON.stringify(current.fn) === JSON.stringify(config)) return current;
    if (current) {
      current.retire();
      this.retired.add(current);
    }
    const pool = new FunctionPool(config, this.options, (line) => {
      this.logs.push(line);
      this.options.onLog?.(line);
    });
    this.pools.set(key, pool);
    return pool;
  }
}
