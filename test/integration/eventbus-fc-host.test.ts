import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FcCredentials, FcHost, type FcHostOptions, type InvokeResult } from '../../local/fc/host';
import { IdentityStore } from '../../local/identity';
import { type FunctionSpec, loadFunctions } from '../../shared/deployment/syaml';
import { fixtureSYaml, type HandlerReport } from '../fixtures/eventbus/fixture';

let functions: Record<string, FunctionSpec>;
let host: FcHost | undefined;
const identities = new IdentityStore();
const issued: Array<{ functionName: string; credentials: FcCredentials }> = [];

beforeAll(async () => {
  functions = Object.fromEntries((await loadFunctions(fixtureSYaml)).map((fn) => [fn.resourceName, fn]));
});

afterEach(async () => {
  await host?.close();
  host = undefined;
  issued.length = 0;
});

function startHost(options: Partial<FcHostOptions> = {}): FcHost {
  host = new FcHost({
    accountId: identities.accountId,
    credentialsFor: (functionName) => {
      const session = identities.assumeRole('ossguard-fn', functionName);
      const credentials = {
        accessKeyId: session.accessKeyId,
        accessKeySecret: session.accessKeySecret,
        securityToken: session.securityToken,
      };
      issued.push({ functionName, credentials });
      return credentials;
    },
    ...options,
  });
  return host;
}

const fn = (resourceName: string): FunctionSpec => functions[resourceName]!;

function report(outcome: InvokeResult): HandlerReport {
  if (!outcome.ok) throw new Error(`invocation failed: ${outcome.error.name}: ${outcome.error.message}`);
  return outcome.result as HandlerReport;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('FcHost', () => {
  it('runs the handler in a separate Node process with a Buffer event and an FC-shaped context', async () => {
    const outcome = await startHost().invoke(fn('fn-a'), JSON.stringify({ id: 'evt-1' }));
    const got = report(outcome);
    expect(got.pid).not.toBe(process.pid);
    expect(got.isBuffer).toBe(true);
    expect(got.event).toEqual({ id: 'evt-1' });
    expect(got.context).toEqual({
      requestId: outcome.requestId,
      credentials: issued[0]?.credentials,
      function: { name: 'fx-a', handler: 'index.handler', memory: 256, timeout: 10 },
      service: { logProject: 'fx-logs', logStore: 'fx-store', qualifier: 'LATEST' },
      region: 'cn-hangzhou',
      accountId: identities.accountId,
    });
    expect(outcome.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(issued.map((i) => i.functionName)).toEqual(['fx-a']);
  });

  it('hands out STS credentials the identity store recognises as the function role session', async () => {
    const got = report(await startHost().invoke(fn('fn-a'), '{}'));
    const found = identities.lookup(got.context.credentials.accessKeyId);
    expect(found).toMatchObject({
      kind: 'ok',
      caller: { kind: 'assumed-role', userName: 'ossguard-fn:fx-a' },
    });
  });

  it("gives the instance the function's environment plus the host overrides, not the host's environment", async () => {
    process.env.EVENTBUS_HOST_ONLY = 'leak';
    try {
      const got = report(
        await startHost({ env: { OSS_ENDPOINT: 'http://127.0.0.1:9000' } }).invoke(fn('fn-a'), '{}'),
      );
      expect(got.env).toEqual({
        MODE: 'dev',
        OSS_ENDPOINT: 'http://127.0.0.1:9000',
        FC_FUNCTION_NAME: 'fx-a',
      });
    } finally {
      delete process.env.EVENTBUS_HOST_ONLY;
    }
  });

  it('keeps the instance warm for the next invocation', async () => {
    const h = startHost();
    const first = report(await h.invoke(fn('fn-a'), '{}'));
    const second = report(await h.invoke(fn('fn-a'), '{}'));
    expect(second.pid).toBe(first.pid);
    expect(h.instancePids('fx-a')).toEqual([first.pid]);
  });

  it.each([
    [1, 1],
    [2, 2],
  ])(
    'serves concurrent invocations with at most maxInstances=%i instance(s)',
    async (maxInstances, expected) => {
      const h = startHost({ maxInstances });
      const outcomes = await Promise.all([h.invoke(fn('fn-a'), '{}'), h.invoke(fn('fn-a'), '{}')]);
      expect(new Set(outcomes.map((o) => report(o).pid)).size).toBe(expected);
    },
  );

  it('gives each function its own instances', async () => {
    const h = startHost();
    const a = report(await h.invoke(fn('fn-a'), '{}'));
    const b = report(await h.invoke(fn('fn-b'), '{}'));
    expect(a.pid).not.toBe(b.pid);
  });

  it('starts a fresh instance when the function configuration changes', async () => {
    const h = startHost();
    const before = report(await h.invoke(fn('fn-a'), '{}'));
    const changed = { ...fn('fn-a'), environmentVariables: { MODE: 'changed' } };
    const after = report(await h.invoke(changed, '{}'));
    expect(after.pid).not.toBe(before.pid);
    expect(after.env.MODE).toBe('changed');
  });

  it('reports an error thrown by the handler with its name and message', async () => {
    const outcome = await startHost().invoke(fn('fn-fail'), JSON.stringify({ id: 'evt-2' }));
    expect(outcome).toMatchObject({
      ok: false,
      error: { name: 'TypeError', message: 'refusing event evt-2' },
    });
  });

  it("kills an instance that outlives the function's timeout and fails the invocation", async () => {
    const h = startHost();
    const started = Date.now();
    const outcome = await h.invoke(fn('fn-slow'), '{}');
    expect(outcome).toMatchObject({ ok: false, error: { name: 'FunctionTimeout' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const pid = h.logs.find((line) => line.message === 'sleeping')?.pid;
    expect(pid).toBeDefined();
    await expect.poll(() => isAlive(pid!)).toBe(false);
  });

  it('captures context.logger and stdout per invocation without logging the credentials', async () => {
    const seen: string[] = [];
    const h = startHost({ onLog: (line) => seen.push(line.message) });
    const outcome = await h.invoke(fn('fn-a'), JSON.stringify({ id: 'evt-3' }));
    expect(h.logs).toEqual([
      expect.objectContaining({
        source: 'logger',
        level: 'info',
        message: 'handling evt-3',
        requestId: outcome.requestId,
      }),
      expect.objectContaining({
        source: 'stdout',
        message: 'stdout from fx-a',
        requestId: outcome.requestId,
      }),
    ]);
    expect(seen).toEqual(['handling evt-3', 'stdout from fx-a']);
    const secrets = Object.values(issued[0]!.credentials);
    for (const line of h.logs) for (const secret of secrets) expect(line.message).not.toContain(secret);
  });

  it.each([
    ['a code directory that does not exist', { codeDir: '/nonexistent/ossguard-fixture' }, 'InstanceError'],
    ['a handler the bundle does not export', { handler: 'index.nope' }, 'Error'],
    ['a handler file that does not exist', { handler: 'missing.handler' }, 'Error'],
  ])('fails the invocation, and the next one too, for %s', async (_case, change, name) => {
    const h = startHost();
    const broken = { ...fn('fn-a'), ...change };
    for (const attempt of [1, 2]) {
      expect(await h.invoke(broken, '{}'), `attempt ${attempt}`).toMatchObject({
        ok: false,
        error: { name },
      });
    }
  });

  it('kills every instance on close', async () => {
    const h = startHost();
    const { pid } = report(await h.invoke(fn('fn-a'), '{}'));
    await h.close();
    expect(isAlive(pid)).toBe(false);
    expect(h.instancePids('fx-a')).toEqual([]);
  });
});
