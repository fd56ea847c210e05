import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { decisionsFor, startCloud, userClient } from './local-cloud';

const OBJECTS = 100;
const ROBOT_LIMIT_PER_MINUTE = 20;

describe('a burst of public objects, alerted within the DingTalk robot limit', () => {
  let cloud: LocalCloud;
  beforeAll(async () => {
    // A cap above the burst: every object is reverted, so the test is about alerting alone; the robot takes
    // what DingTalk's does.
    cloud = await startCloud(
      { maxRemediationsPerInvocation: 2 * OBJECTS },
      { dingtalkMessagesPerMinute: ROBOT_LIMIT_PER_MINUTE },
    );
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('reverts 100 objects made public in one batch, in at most 20 DingTalk messages that name every event', async () => {
    const alice = userClient(cloud, 'alice', 'burst');
    await alice.putBucket('burst');
    const keys = Array.from({ length: OBJECTS }, (_, i) => `export/part-${String(i).padStart(3, '0')}.csv`);
    await Promise.all(keys.map((key) => alice.put(key, Buffer.from(key))));
    await cloud.settle();
    const started = Date.now();

    // With the log trigger paused the changes collect in the trail logstore and reach the object guard as
    // one range, one invocation.
    cloud.logTriggers.pause();
    await Promise.all(keys.map((key) => alice.putACL(key, 'public-read')));
    const delivered = cloud.logTriggers.deliveries().length;
    cloud.logTriggers.resume();
    await cloud.settle();

    expect(cloud.logTriggers.deliveries()[delivered]).toMatchObject({ ok: true });
    const records = await decisionsFor(cloud, 'PutObjectAcl', 'burst');
    expect(records).toHaveLength(OBJECTS);
    expect(new Set(records.map((r) => r.decision))).toEqual(new Set(['remediated']));
    const acls = await Promise.all(keys.map(async (key) => (await alice.getACL(key)).acl));
    expect(new Set(acls)).toEqual(new Set(['private']));

    const messages = cloud.dingtalk.messages().filter((m) => m.receivedAt - started < 60_000);
    expect(messages.length).toBeLessThanOrEqual(ROBOT_LIMIT_PER_MINUTE);
    expect(cloud.dingtalk.requests().filter((r) => r.errcode !== undefined)).toEqual([]);
    const texts = messages.map((m) => JSON.stringify(m.body));
    const unmentioned = records.filter((r) => !texts.some((text) => text.includes(r.dedupeKey)));
    expect(unmentioned).toEqual([]);
    for (const record of records) {
      expect(record.alerts).toContainEqual(expect.objectContaining({ channel: 'dingtalk', ok: true }));
    }
    // Email has no robot limit, but a hundred mails would bury the one that matters: one digest.
    expect(cloud.smtp.messages()).toHaveLength(1);
  });
});
