import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { type ConfigPatch, LocalCloud, type LocalCloudOptions } from '../../local/cloud';
import type { FcFunctionConfig } from '../../shared/deployment/syaml';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The benchmarks' round-trip time: what every emulated OSS, RAM, IMS and ActionTrail response waits. */
export const RTT_MS = 10;

/** The local cloud with the project's s.yaml and the injected round trip; functions run from dist/. */
export function startBenchCloud(
  options: { config?: ConfigPatch; latencyMs?: number } & Pick<LocalCloudOptions, 'intercept'> = {},
): Promise<LocalCloud> {
  return LocalCloud.start({
    sYaml: join(ROOT, 's.yaml'),
    stateDir: mkdtempSync(join(tmpdir(), 'ossguard-bench-')),
    retryDelayMs: 50,
    latencyMs: options.latencyMs ?? RTT_MS,
    ...(options.config ? { config: options.config } : {}),
    ...(options.intercept ? { intercept: options.intercept } : {}),
  });
}

/** Setup that must not reach the functions: neither the bus nor the trail delivers its events. */
export function unseen<T>(cloud: LocalCloud, work: () => Promise<T>): Promise<T> {
  return cloud.unobserved(work);
}

export interface Handoff {
  functionName: string;
  payload: Buffer;
  at: number;
}

/**
 * Calls `record` at the moment the event router hands an event to FC: the start of time-to-remediate. The
 * bus holds the FcHost and calls its `invoke`, so wrapping that method on the instance sees every delivery.
 */
export function watchHandoffs(cloud: LocalCloud, record: (handoff: Handoff) => void): void {
  const invoke = cloud.fc.invoke.bind(cloud.fc);
  cloud.fc.invoke = (fn: FcFunctionConfig, payload: Buffer | string) => {
    const at = performance.now();
    record({ functionName: fn.functionName, payload: Buffer.from(payload), at });
    return invoke(fn, payload);
  };
}

interface ServerResponseFinish {
  request: IncomingMessage;
  response: ServerResponse;
  socket: Socket;
}

/**
 * Resolves with the time an emulator finished sending the response to a request `matches` accepts: the
 * moment the caller's request is acknowledged. Node publishes every HTTP server response on this
 * diagnostics channel, so the emulators need no hook of their own.
 */
export function acknowledged(
  port: number,
  matches: (request: IncomingMessage) => boolean,
  timeoutMs = 20_000,
): Promise<number> {
  return new Promise((done, fail) => {
    const listener = (message: unknown) => {
      const { request, socket } = message as ServerResponseFinish;
      if (socket.localPort !== port || !matches(request)) return;
      const at = performance.now();
      stop();
      done(at);
    };
    const timer = setTimeout(() => {
      stop();
      fail(new Error(`no matching response on port ${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = () => {
      clearTimeout(timer);
      unsubscribe('http.server.response.finish', listener);
    };
    subscribe('http.server.response.finish', listener);
  });
}

/**
 * Counts the responses the emulators send until the returned function is called, by method and operation (the
 * `Action`, else the query's first parameter, else whether the path names an object or a bucket): what an invocation costs in
 * requests, which moves far less than its wall time on a loaded machine.
 */
export function countRequests(): () => { total: number; byKind: Record<string, number> } {
  const byKind: Record<string, number> = {};
  let total = 0;
  const listener = (message: unknown) => {
    const { request } = message as ServerResponseFinish;
    const url = new URL(request.url ?? '/', 'http://local');
    const sub = [...url.searchParams.keys()].find((k) => !k.startsWith('x-oss-'));
    // OSS is addressed path-style here: `/bucket` or `/bucket/key`.
    const target = url.pathname.split('/').filter(Boolean).length > 1 ? 'object' : 'bucket';
    const kind = `${request.method} ${url.searchParams.get('Action') ?? sub ?? target}`;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    total++;
  };
  subscribe('http.server.response.finish', listener);
  return () => {
    unsubscribe('http.server.response.finish', listener);
    return { total, byKind };
  };
}

export const portOf = (endpoint: string): number => Number(new URL(endpoint).port);

/**
 * The request that sets `bucket`'s ACL back to private: ossguard's revert. ali-oss names the bucket in the
 * Host header or in the path depending on the endpoint; either way it is in one of them.
 */
export const isAclRevertOf =
  (bucket: string) =>
  (request: IncomingMessage): boolean =>
    request.method === 'PUT' &&
    request.headers['x-oss-acl'] === 'private' &&
    `${request.headers.host ?? ''}${request.url ?? ''}`.includes(bucket);

/** Runs `work` over `items` with at most `limit` at once. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  await pLimit(limit).map(items, work);
}

/** CPU time (user + system) a process has used so far, in ms: this one's, or another's from /proc (Linux). */
export function cpuMs(pid?: number): number {
  if (pid === undefined) {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  }
  // Fields 14 and 15 of /proc/<pid>/stat, after the parenthesised command name, in clock ticks (100 a second).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Peak resident set of another process so far (Linux, as on FC): VmHWM, in MB to one decimal. */
export function peakRssMb(pid: number): number {
  const kb = /^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kb ?? Number.NaN) / 102.4) / 10;
}
