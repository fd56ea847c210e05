import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditKey } from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { createLogger } from '../../shared/log';
import { type SweepCheckpoint, SweepCheckpoints } from '../../shared/sweep/progress-checkpoint';
import { OssRig } from '../helpers/oss';

const AUDIT = 'sweep-checkpoints-audit';
const KEY_V1: AuditKey = { id: 'kms:ossguard-audit@v1', secret: Buffer.from('a-test-secret-not-a-real-one') };
const KEY_V2: AuditKey = { id: 'kms:ossguard-audit@v2', secret: Buffer.from('another-test-secret-not-real') };

const HOUR = 3_600_000;
const ago = (ms: number) => new Date(Date.now() - ms);

/** A checkpoint of a run started `started`, `after` the named bucket, as the sweep writes one. */
const checkpointOf = (runId: string, started: Date, seq = 1, after = 'bucket-0100'): SweepCheckpoint => ({
  kind: 'ossguard-sweep-checkpoint',
  runId,
  startedAt: started.toISOString(),
  seq,
  after,
  complete: false,
  buckets: 100,
  exposed: 0,
  writtenAt: started.toISOString(),
});

/** The key scheme is public (shared/sweep/progress-checkpoint.ts): whoever can write the bucket can compute it. */
const keyOf = (prefix: string, started: Date, seq: number) =>
  `${prefix}${String(9_999_999_999_999 - started.getTime()).padStart(13, '0')}/${String(999_999 - seq).padStart(6, '0')}.json`;

describe('sweep checkpoints someone planted in the audit bucket', () => {
  let rig: OssRig;
  const warnings: string[] = [];
  const gateway = () =>
    new OssGateway(
      new OssClientFactory({
        credentials: rig.root,
        endpoint: `http://127.0.0.1:${rig.emulator.port}`,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      }),
      rig.emulator.region,
      new CallLog(),
    );
  const checkpoints = (prefix: string, key: AuditKey | undefined, previousKey?: AuditKey) =>
    new SweepCheckpoints(gateway(), AUDIT, prefix, {
      key,
      previousKey,
      now: () => new Date(),
      log: createLogger({}, (line) => warnings.push(line)),
    });
  const plant = (key: string, body: string) => gateway().putObjectIfAbsent(AUDIT, key, body);

  beforeAll(async () => {
    rig = await new OssRig().start();
    await rig.client(rig.root).putBucket(AUDIT);
  });
  afterAll(() => rig.close());

  it('are passed over when unsealed, so the real run resumes where it stopped', async () => {
    const prefix = 'unsealed/';
    await checkpoints(prefix, KEY_V1).write(checkpointOf('real', ago(2 * HOUR)));
    // A newer run that says every bucket is done: the real run would be dropped, its other buckets skipped.
    const planted = { ...checkpointOf('planted', ago(HOUR)), complete: true, after: 'zzzz' };
    await plant(keyOf(prefix, ago(HOUR), 1), JSON.stringify(planted));

    expect((await checkpoints(prefix, KEY_V1).latest())?.runId).toBe('real');
    expect(warnings.join('\n')).toContain('sweep checkpoint passed over');
  });

  it('are told apart by name, so many planted at once still leave the real run to resume', async () => {
    const prefix = 'many/';
    await checkpoints(prefix, KEY_V1).write(checkpointOf('real', ago(2 * HOUR)));
    for (let n = 0; n < 60; n++) {
      const at = ago(HOUR - n);
      await plant(keyOf(prefix, at, 1), JSON.stringify(checkpointOf(`planted-${n}`, at, 1, 'zzzz')));
    }

    expect((await checkpoints(prefix, KEY_V1).latest())?.runId).toBe('real');
  });

  it('are passed over when not JSON, rather than failing every sweep', async () => {
    const prefix = 'not-json/';
    await checkpoints(prefix, KEY_V1).write(checkpointOf('real', ago(2 * HOUR)));
    await plant(keyOf(prefix, ago(HOUR), 1), '{ not json');

    expect((await checkpoints(prefix, KEY_V1).latest())?.runId).toBe('real');
  });

  it('are passed over when dated ahead of now, even without an audit key', async () => {
    const prefix = 'ahead/';
    await checkpoints(prefix, undefined).write(checkpointOf('real', ago(2 * HOUR)));
    const farAhead = new Date('2200-01-01T00:00:00Z');
    for (let n = 0; n < 30; n++) {
      const at = new Date(farAhead.getTime() + n);
      await plant(keyOf(prefix, at, 1), JSON.stringify(checkpointOf('planted', at, 1, 'zzzz')));
    }
    // Dated now in its key, but written ahead: not ossguard's either.
    const now = new Date();
    await plant(
      keyOf(prefix, now, 1),
      JSON.stringify({ ...checkpointOf('planted-now', now), writtenAt: farAhead.toISOString() }),
    );

    expect((await checkpoints(prefix, undefined).latest())?.runId).toBe('real');
  });

  it('are passed over when a sealed checkpoint is copied over a newer one', async () => {
    const prefix = 'copied/';
    const written = checkpoints(prefix, KEY_V1);
    await written.write(checkpointOf('older', ago(3 * HOUR)));
    await written.write(checkpointOf('real', ago(2 * HOUR), 1, 'bucket-0200'));
    const [newest, older] = (await gateway().listObjects(AUDIT, prefix)).keys.map((k) => k.key);
    if (!newest || !older) throw new Error('the checkpoints were not written');
    // Without WORM, whoever can write the bucket can overwrite a real checkpoint with another sealed one.
    const client = rig.client(rig.root);
    client.useBucket(AUDIT);
    await client.put(newest, (await gateway().getObject(AUDIT, older)).subarray());
    warnings.length = 0;

    expect((await checkpoints(prefix, KEY_V1).latest())?.runId).toBe('older');
    expect(warnings.join('\n')).toContain(newest);
  });

  it('still hold when sealed with the audit key’s version before a rotation', async () => {
    const prefix = 'rotated/';
    await checkpoints(prefix, KEY_V1).write(checkpointOf('before-rotation', ago(HOUR)));

    expect((await checkpoints(prefix, KEY_V2, KEY_V1).latest())?.runId).toBe('before-rotation');
    expect(await checkpoints(prefix, KEY_V2).latest()).toBeUndefined();
  });

  it('written before checkpoints were sealed start one new run once an audit key is set', async () => {
    const prefix = 'upgrade/';
    await checkpoints(prefix, undefined).write(checkpointOf('unsealed', ago(HOUR)));
    expect((await checkpoints(prefix, undefined).latest())?.runId).toBe('unsealed');
    expect(await checkpoints(prefix, KEY_V1).latest()).toBeUndefined();
    // The new run's checkpoint is then the one every later invocation resumes from.
    await checkpoints(prefix, KEY_V1).write(checkpointOf('sealed', new Date()));
    expect((await checkpoints(prefix, KEY_V1).latest())?.runId).toBe('sealed');
  });

  it('do not keep the next step from being written when planted at its key', async () => {
    const prefix = 'next-step/';
    const started = ago(HOUR);
    await checkpoints(prefix, KEY_V1).write(checkpointOf('real', started));
    await plant(keyOf(prefix, started, 2), JSON.stringify(checkpointOf('real', started, 2, 'zzzz')));

    expect(await checkpoints(prefix, KEY_V1).write(checkpointOf('real', started, 2, 'bucket-0200'))).toBe(
      'created',
    );
    expect(await checkpoints(prefix, KEY_V1).latest()).toMatchObject({ runId: 'real', after: 'bucket-0200' });
  });
});
