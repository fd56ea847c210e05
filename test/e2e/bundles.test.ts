import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, TRAIL_LOGSTORE, TRAIL_PROJECT } from '../../local/cloud';
import { cursorAt } from '../../local/sls/store';
import { ossChangeEvent, startCloud } from './local-cloud';

const DIST = resolve('dist');

/** Every function bundle `npm run build` wrote: the files FC would load. */
const BUNDLES = readdirSync(DIST, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(DIST, entry.name, 'index.js')))
  .filter((entry) => entry.name !== 'cli')
  .map((entry) => entry.name);

/**
 * Loads a bundle in a fresh Node process, as the FC nodejs20 runtime does, and calls `handler` once with a
 * Buffer event and an FC-shaped context. The bundle's output (its log lines, ali-oss warnings) goes to
 * stdout and stderr; the outcome comes back on a pipe of its own, fd 3, so no output can pass for it.
 */
const DRIVER = `
const [bundle, eventJson, contextJson] = process.argv.slice(1);
const report = (outcome) => require('node:fs').writeSync(3, JSON.stringify(outcome));
(async () => {
  const logger = {};
  for (const level of ['debug', 'info', 'warn', 'error', 'log']) logger[level] = (...a) => console.log(...a);
  try {
    const { handler } = require(bundle);
    const result = await handler(Buffer.from(eventJson), { ...JSON.parse(contextJson), logger });
    report({ ok: true, result });
  } catch (error) {
    report({ ok: false, name: error.name, message: error.message });
  }
})();
`;

interface BundleOutcome {
  ok: boolean;
  result?: { decisions: Array<{ decision: string; reason: string }> };
  name?: string;
  message?: string;
}

function runBundle(
  fn: string,
  env: Record<string, string>,
  event: unknown,
  context: object,
): Promise<BundleOutcome & { stdout: string }> {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['-e', DRIVER, join(DIST, fn, 'index.js'), JSON.stringify(event), JSON.stringify(context)],
      // FC's environment: the function's variables, nothing of the host's (which may hold real keys).
      {
        env: { ...env, PATH: process.env.PATH ?? '' },
        cwd: join(DIST, fn),
        stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      },
    );
    const output = { stdout: '', stderr: '', outcome: '' };
    const collect = (stream: Readable | null | undefined, into: keyof typeof output) =>
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        output[into] += chunk;
      });
    collect(child.stdout, 'stdout');
    collect(child.stderr, 'stderr');
    collect(child.stdio[3] as Readable, 'outcome');
    child.on('error', fail);
    child.on('close', () => {
      try {
        done({ ...(JSON.parse(output.outcome) as BundleOutcome), stdout: output.stdout });
      } catch {
        fail(new Error(`${fn} reported no outcome; stderr: ${output.stderr}`));
      }
    });
  });
}

describe('the function bundles in dist/, loaded the way FC loads them', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    cloud = await startCloud();
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  const contextFor = (fn: string) => ({
    requestId: `canary-${fn}`,
    region: cloud.region,
    accountId: cloud.identities.accountId,
    credentials: cloud.functionCredentials(fn),
    function: { name: fn, handler: 'index.handler', memory: 256, timeout: 60 },
  });

  it('finds the bundles npm run build writes', () => {
    expect(BUNDLES).toEqual(expect.arrayContaining(['oss-acl-guard', 'access-key-guard']));
  });

  // A change to a bucket that does not exist: a guard that handles it finds nothing to judge, the others
  // ignore the event; either way it is skipped, and nothing in the account changes.
  // The sweeper runs on a timer and trail-guard on a log trigger, not on EventBridge events: the sweeper's
  // own tests (test/e2e/sweep*) cover its payloads, the log-trigger range is below.
  const EVENT_BUNDLES = BUNDLES.filter((fn) => fn !== 'oss-sweeper' && fn !== 'trail-guard');

  it.each(EVENT_BUNDLES)('%s handles a canary event for a missing bucket as skipped', async (fn) => {
    const canary = ossChangeEvent(cloud, {
      actor: 'canary',
      operation: 'PutBucketAcl',
      bucket: 'ossguard-canary-missing',
      headers: { 'x-oss-acl': 'public-read' },
    });

    const outcome = await runBundle(fn, cloud.functionEnv(), canary, contextFor(fn));

    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.result?.decisions).toEqual([
      expect.objectContaining({
        decision: 'skipped',
        reason: expect.stringMatching(/^bucket ossguard-canary-missing no longer exists$|is not handled/),
      }),
    ]);
    expect(outcome.stdout).toContain('"decision":"skipped"');
  });

  it('trail-guard reads a log-trigger range with PullLogs, re-checks the private upload in it and acts on nothing', async () => {
    await cloud.adminClient(cloud.auditBucket).put('canary/plain.txt', Buffer.from('no ACL header'));
    const fn = 'trail-guard';
    const event = {
      parameter: {},
      source: {
        endpoint: cloud.endpoints.sls,
        projectName: TRAIL_PROJECT,
        logstoreName: TRAIL_LOGSTORE,
        shardId: 0,
        beginCursor: cursorAt(0),
        endCursor: cloud.sls.store.endCursor(TRAIL_PROJECT, TRAIL_LOGSTORE, 0),
      },
      jobName: 'canary',
      taskId: 'canary',
      cursorTime: Math.floor(Date.now() / 1000),
    };

    const outcome = await runBundle(fn, cloud.functionEnv(), event, contextFor(fn));

    // The range also holds the other canaries' object reads and audit writes: all of them skipped.
    expect(outcome).toMatchObject({ ok: true, result: { decisions: [], malformed: 0 } });
    const result = outcome.result as unknown as {
      ignored: number;
      rechecked: number;
      recheckedPublic: number;
    };
    expect(result.ignored).toBeGreaterThan(0);
    expect(result.rechecked).toBeGreaterThan(0);
    expect(result.recheckedPublic).toBe(0);
    expect(outcome.stdout).toContain('"message":"read trail range"');
  });

  it.each(BUNDLES)('%s fails to load with a bad config, naming the bad key', async (fn) => {
    const env = {
      ...cloud.functionEnv(),
      OSSGUARD_CONFIG: JSON.stringify({ audit: { bucket: cloud.auditBucket }, dryrun: true }),
    };

    const outcome = await runBundle(fn, env, {}, contextFor(fn));

    expect(outcome).toMatchObject({
      ok: false,
      message: expect.stringContaining('dryrun: is not a known setting'),
    });
  });
});
