import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { build } from 'esbuild';
import type { LocalCloud } from '../../local/cloud';
import { functionBundleOptions } from '../../scripts/bundle-options.mjs';
import { ROOT } from './cloud';

const INSTANCE = join(ROOT, 'bench', 'lib', 'instance.cjs');

export interface InstanceOutcome {
  /** From `spawn` to the outcome's arrival, on this process's clock. */
  wallMs: number;
  /** On the instance's own clock, 0 being its process start. */
  loadStart: number;
  loaded: number;
  handled: number;
  /** The instance's CPU time (user and system, µs) when it reported. */
  cpu: { user: number; system: number };
  /** The instance's peak resident set (VmHWM) once the bundle was loaded, and when it reported, in kB. */
  loadedRssKb: number;
  peakRssKb: number;
  result: unknown;
}

/** FC's context for a function of the local cloud. */
export interface InstanceContext {
  requestId: string;
  region: string;
  accountId: string;
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken: string };
  function: { name: string; handler: string; memory: number; timeout: number };
}

export const contextFor = (
  cloud: LocalCloud,
  functionName: string,
  region: string = cloud.region,
  timeout = 60,
): InstanceContext => ({
  requestId: `bench-${functionName}`,
  region,
  accountId: cloud.identities.accountId,
  credentials: cloud.functionCredentials(functionName),
  function: { name: functionName, handler: 'index.handler', memory: 256, timeout },
});

/**
 * A fresh `node` that requires `bundle` and hands its handler one event (instance.cjs), with only `env` as
 * its environment. Resolves when the instance reports; rejects if the handler failed.
 */
export function runInstance(
  bundle: string,
  event: unknown,
  context: InstanceContext,
  env: Record<string, string>,
): Promise<InstanceOutcome> {
  return new Promise((done, fail) => {
    const start = performance.now();
    const child = spawn(
      process.execPath,
      [INSTANCE, bundle, JSON.stringify(event), JSON.stringify(context)],
      {
        env: { ...env, PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      },
    );
    let reportedAt = 0;
    let report = '';
    let stderr = '';
    (child.stdio[3] as Readable).setEncoding('utf8').on('data', (chunk: string) => {
      reportedAt ||= performance.now();
      report += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', () => {
      if (!report) return fail(new Error(`${bundle} reported nothing; stderr: ${stderr.slice(0, 2000)}`));
      const outcome = JSON.parse(report) as Omit<InstanceOutcome, 'wallMs'> & {
        ok: boolean;
        message?: string;
      };
      if (!outcome.ok) return fail(new Error(`${bundle} failed: ${outcome.message}`));
      done({ ...outcome, wallMs: reportedAt - start });
    });
  });
}

/** Bundles bench/floors/<name>.ts exactly like a function; resolves to the bundle's path. */
export async function buildFloor(name: string): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'ossguard-floor-')), name, 'index.js');
  await build({
    ...functionBundleOptions,
    entryPoints: [join(ROOT, 'bench', 'floors', `${name}.ts`)],
    outfile,
  });
  return outfile;
}
