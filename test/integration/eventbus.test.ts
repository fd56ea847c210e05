import { afterEach, describe, expect, it } from 'vitest';
import { LocalEventBus, type LocalEventBusOptions } from '../../local/eventbus/bus';
import { FcHost } from '../../local/fc/host';
import { IdentityStore } from '../../local/identity';
import { loadFunctions } from '../../shared/deployment/syaml';
import {
  actionTrailEvent,
  copyFixture,
  fixtureSYaml,
  type HandlerReport,
} from '../fixtures/eventbus/fixture';

const identities = new IdentityStore();
let host: FcHost | undefined;
let bus: LocalEventBus | undefined;
let fixture: ReturnType<typeof copyFixture> | undefined;

afterEach(async () => {
  bus?.close();
  await host?.close();
  fixture?.remove();
  bus = host = fixture = undefined;
});

/** The local cloud's wiring: FC host backed by the identity store, bus routing by the s.yaml's triggers. */
function start(options: Partial<LocalEventBusOptions> & { sYaml?: string } = {}): LocalEventBus {
  const { sYaml = fixtureSYaml, ...busOptions } = options;
  host = new FcHost({
    accountId: identities.accountId,
    credentialsFor: (functionName) => {
      const { accessKeyId, accessKeySecret, securityToken } = identities.assumeRole(
        'ossguard-fn',
        functionName,
      );
      return { accessKeyId, accessKeySecret, securityToken };
    },
    env: { OSS_ENDPOINT: 'http://127.0.0.1:9000' },
  });
  bus = new LocalEventBus({
    invoker: host,
    functions: () => loadFunctions(sYaml),
    retryDelayMs: 50,
    ...busOptions,
  });
  return bus;
}

const deliveredTo = (b: LocalEventBus): string[] => b.deliveries().map((d) => d.functionName);

describe('LocalEventBus', () => {
  it("delivers an event only to the function whose trigger's pattern matches it, in a separate process", async () => {
    const b = start();
    const event = actionTrailEvent(identities, 'PutBucketAcl');
    b.publish(event);
    await b.drain();

    expect(b.deliveries()).toEqual([
      expect.objectContaining({
        eventId: event.id,
        functionName: 'fx-a',
        triggerName: 'acl-changes',
        attempt: 1,
        ok: true,
      }),
    ]);
    const [delivery] = b.deliveries();
    const got = delivery?.result as HandlerReport;
    expect(got.pid).not.toBe(process.pid);
    expect(got.isBuffer).toBe(true);
    expect(got.event).toEqual(JSON.parse(JSON.stringify(event)));
    expect(got.context).toMatchObject({
      requestId: delivery?.requestId,
      function: { name: 'fx-a', handler: 'index.handler', memory: 256, timeout: 10 },
      region: 'cn-hangzhou',
      accountId: identities.accountId,
    });
    expect(identities.lookup(got.context.credentials.accessKeyId)).toMatchObject({
      kind: 'ok',
      caller: { kind: 'assumed-role', userName: 'ossguard-fn:fx-a' },
    });
    expect(got.env.OSS_ENDPOINT).toBe('http://127.0.0.1:9000');
  });

  it.each([
    ['CreateAccessKey', 'Ims' as const, ['fx-b']],
    ['PutBucketPolicy', 'Oss' as const, []],
  ])('routes %s from %s to %j', async (eventName, serviceName, expected) => {
    const b = start();
    b.publish(actionTrailEvent(identities, eventName, { serviceName }));
    await b.drain();
    expect(deliveredTo(b)).toEqual(expected);
  });

  it('returns from publish before the function runs', async () => {
    const b = start();
    b.publish(actionTrailEvent(identities, 'PutBucketAcl'));
    expect(b.deliveries()).toEqual([]);
    await b.drain();
    expect(deliveredTo(b)).toEqual(['fx-a']);
  });

  it('records every published event and exposes their ActionTrail records', async () => {
    const b = start();
    const events = ['PutBucketAcl', 'GetService'].map((name) => actionTrailEvent(identities, name));
    for (const event of events) b.publish(event);
    await b.drain();
    expect(b.history()).toEqual(events);
    expect(b.seen()).toEqual(events.map((event) => event.data));
  });

  it('stops delivering to a function once its filter in s.yaml no longer matches', async () => {
    fixture = copyFixture();
    const b = start({ sYaml: fixture.sYaml });
    b.publish(actionTrailEvent(identities, 'PutBucketAcl'));
    await b.drain();
    expect(deliveredTo(b)).toEqual(['fx-a']);

    fixture.edit('"eventName":["PutBucketAcl"]}}', '"eventName":["PutBucketPolicy"]}}');
    b.publish(actionTrailEvent(identities, 'PutBucketAcl'));
    await b.drain();
    expect(deliveredTo(b)).toEqual(['fx-a']);

    b.publish(actionTrailEvent(identities, 'PutBucketPolicy'));
    await b.drain();
    expect(deliveredTo(b)).toEqual(['fx-a', 'fx-a']);
  });

  it('rejects drain when the edited s.yaml has an invalid filter, instead of matching nothing', async () => {
    fixture = copyFixture();
    const b = start({ sYaml: fixture.sYaml });
    fixture.edit('"eventName":["DeleteBucket"]', '"eventName":"DeleteBucket"');
    b.publish(actionTrailEvent(identities, 'DeleteBucket'));
    await expect(b.drain()).rejects.toThrow('invalid event pattern at data.eventName');
    await expect(b.drain()).resolves.toBeUndefined();
  });

  it('redelivers the same event to a failing function up to maxRetries, then dead-letters it', async () => {
    const onDelivery: number[] = [];
    const b = start({ maxRetries: 3, onDelivery: (d) => onDelivery.push(d.attempt) });
    const event = actionTrailEvent(identities, 'DeleteBucket');
    b.publish(event);
    await b.drain();

    expect(b.deliveries().map((d) => [d.eventId, d.functionName, d.attempt, d.ok])).toEqual([
      [event.id, 'fx-fail', 1, false],
      [event.id, 'fx-fail', 2, false],
      [event.id, 'fx-fail', 3, false],
      [event.id, 'fx-fail', 4, false],
    ]);
    // The function itself saw the same id on every attempt.
    for (const d of b.deliveries()) expect(d.error?.message).toBe(`refusing event ${event.id}`);
    expect(onDelivery).toEqual([1, 2, 3, 4]);
    expect(b.deadLetters()).toEqual([
      {
        event,
        functionName: 'fx-fail',
        region: 'cn-hangzhou',
        triggerName: 'deletes',
        attempts: 4,
        error: { name: 'TypeError', message: `refusing event ${event.id}` },
      },
    ]);
  });

  it('waits retryDelayMs between attempts', async () => {
    const b = start({ maxRetries: 1, retryDelayMs: 300 });
    const started = Date.now();
    b.publish(actionTrailEvent(identities, 'DeleteBucket'));
    await b.drain();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(b.deadLetters()).toHaveLength(1);
  });

  it('counts a function that times out as failed', async () => {
    const b = start({ maxRetries: 0 });
    b.publish(actionTrailEvent(identities, 'PutBucketLifecycle'));
    await b.drain();
    expect(b.deliveries()).toEqual([
      expect.objectContaining({
        functionName: 'fx-slow',
        ok: false,
        error: expect.objectContaining({ name: 'FunctionTimeout' }),
      }),
    ]);
    expect(b.deadLetters().map((d) => d.error.name)).toEqual(['FunctionTimeout']);
  });

  it('records but never delivers events published while paused, not even after resume', async () => {
    const b = start({ paused: true });
    expect(b.paused).toBe(true);
    const whilePaused = actionTrailEvent(identities, 'PutBucketAcl');
    b.publish(whilePaused);
    await b.drain();
    b.resume();
    await b.drain();
    expect(b.deliveries()).toEqual([]);
    expect(b.history()).toEqual([whilePaused]);

    const afterResume = actionTrailEvent(identities, 'PutBucketAcl');
    b.publish(afterResume);
    b.pause();
    b.publish(actionTrailEvent(identities, 'PutBucketAcl'));
    await b.drain();
    expect(b.deliveries().map((d) => d.eventId)).toEqual([afterResume.id]);
    expect(b.history()).toHaveLength(3);
  });

  it.each([
    [false, ['fx-a']],
    [true, []],
  ])('with regionScoped %s delivers an event from another region to %j', async (regionScoped, expected) => {
    const b = start({ regionScoped });
    b.publish(actionTrailEvent(identities, 'PutBucketAcl', { region: 'ap-southeast-1' }));
    await b.drain();
    expect(deliveredTo(b)).toEqual(expected);
  });

  it('invokes a function directly, e.g. with its timer payload', async () => {
    const b = start();
    const [, fnB] = await loadFunctions(fixtureSYaml);
    const timer = fnB?.triggers.find((t) => t.type === 'timer');
    const payload = JSON.stringify({
      triggerTime: '2026-01-01T01:00:00Z',
      triggerName: timer?.name,
      payload: 'x',
      job: 'digest',
    });
    const outcome = await b.invoke('fx-b', payload);
    expect(outcome).toMatchObject({ ok: true, result: { event: { job: 'digest', triggerName: 'daily' } } });
    await expect(b.invoke('fx-nope', '{}')).rejects.toThrow('no function fx-nope');
  });

  it('stops pending retries on close', async () => {
    const b = start({ maxRetries: 3, retryDelayMs: 60_000 });
    b.publish(actionTrailEvent(identities, 'DeleteBucket'));
    await expect.poll(() => b.deliveries().length).toBe(1);
    b.close();
    await b.drain();
    expect(b.deliveries()).toHaveLength(1);
    expect(b.deadLetters()).toEqual([]);
  });
});
