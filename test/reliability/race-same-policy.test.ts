import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { FaultInjector } from '../../local/faults';
import { attachPolicy, ramClient } from '../e2e/local-cloud';
import { alertCopies, recordsFor, startFaultyCloud } from './faulty-cloud';

/**
 * The same RAM event delivered twice at once (EventBridge and the trail both carry it, and EventBridge delivers
 * at least once). Reads of who holds the policy are slowed so both copies find it attached before either
 * detaches it: the copy that detaches second finds nothing left to detach.
 */
describe('one attach of a broad policy handled by two instances at once', () => {
  let cloud: LocalCloud;
  let faults: FaultInjector;
  let ram: Ram;

  beforeAll(async () => {
    ({ cloud, faults } = await startFaultyCloud({
      maxInstances: 2,
      config: { rules: { 'broad-system-policy-attached': 'enforce' } },
    }));
    ram = ramClient(cloud, Ram);
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  /** AliyunOSSFullAccess attached to a new group, unseen by ossguard: the event, to deliver by hand. */
  async function fullAccessAttachedToNewGroup(groupName: string) {
    await ram.createGroup(new $Ram.CreateGroupRequest({ groupName }));
    await cloud.settle();
    await cloud.unobserved(() => attachPolicy(ram, { group: groupName }, 'AliyunOSSFullAccess'));
    const attached = cloud.bus.history().at(-1);
    if (attached?.data.eventName !== 'AttachPolicyToGroup') throw new Error('no AttachPolicyToGroup event');
    return attached;
  }

  it('writes one remediated record and alerts once when the second detach finds the policy already detached', async () => {
    const attached = await fullAccessAttachedToNewGroup('twins');
    const invoke = () => cloud.bus.invoke('access-key-guard', JSON.stringify(attached));

    const lift = faults.outage('overlapping reads', (c) => c.operation === 'ListEntitiesForPolicy', {
      delayMs: 1_000,
    });
    // The copies' detaches one after the other: the second finds the policy detached already.
    let detaches = 0;
    const liftDetach = faults.outage(
      'second detach later',
      (c) => c.operation === 'DetachPolicyFromGroup' && ++detaches === 2,
      { delayMs: 300 },
    );
    const results = await Promise.all([invoke(), invoke()]);
    lift();
    liftDetach();
    // The copy that lost the intent race leaves the record and the alert to the other and fails, so that
    // EventBridge brings it again (as the extra invoke below does).
    for (const held of results.filter((r) => !r.ok))
      expect(JSON.stringify(held.error)).toContain('another delivery of this event holds its intent record');
    expect((await invoke()).ok).toBe(true);
    await cloud.settle();

    expect(recordsFor(cloud, attached).map((r) => r.decision)).toEqual(['remediated']);
    expect(alertCopies(cloud, attached)).toEqual({ dingtalk: 1, email: 1 });
    const holders = await ram.listEntitiesForPolicy(
      new $Ram.ListEntitiesForPolicyRequest({ policyName: 'AliyunOSSFullAccess', policyType: 'System' }),
    );
    expect(holders.body?.groups?.group ?? []).toEqual([]);
  });

  it('says in its record that the policy was detached already when its owner detached it before ossguard could', async () => {
    const attached = await fullAccessAttachedToNewGroup('owners');

    // ossguard's detach is held for a second; the owner's own, which comes while it is held, goes through first.
    let detaches = 0;
    const lift = faults.outage(
      "ossguard's detach later",
      (c) => c.operation === 'DetachPolicyFromGroup' && ++detaches === 1,
      { delayMs: 1_000 },
    );
    const handled = cloud.bus.invoke('access-key-guard', JSON.stringify(attached));
    while (detaches === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await cloud.unobserved(() =>
      ram.detachPolicyFromGroup(
        new $Ram.DetachPolicyFromGroupRequest({
          policyName: 'AliyunOSSFullAccess',
          policyType: 'System',
          groupName: 'owners',
        }),
      ),
    );
    const result = await handled;
    lift();
    expect(result.ok).toBe(true);
    await cloud.settle();

    expect(recordsFor(cloud, attached).map((r) => [r.decision, r.reason])).toEqual([
      [
        'remediated',
        "detach AliyunOSSFullAccess from RAM user group owners (AliyunOSSFullAccess was detached from RAM user group owners already when ossguard's call reached RAM)",
      ],
    ]);
  });
});
