import Ims, * as $Ims from '@alicloud/ims20190815';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import type { AccessKey } from '../../local/identity';
import type { AuditRecord } from '../../shared/audit/record';
import { auditRecords, ramClient, startCloud } from './local-cloud';

const TAG_KEY = 'ossguard-exception';

type Key = Pick<AccessKey, 'accessKeyId' | 'accessKeySecret'>;

/**
 * A tag on a RAM user grants exceptions from key rules for its keys (#20 item 4): tagging users is watched like
 * bucket tagging, through the local cloud's IMS and both paths (EventBridge and the trail).
 */
describe('exception tags on RAM users', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud();
  }, 60_000);
  afterAll(async () => {
    await cloud?.stop();
  });

  const ims = (key: Key) => ramClient(cloud, Ims, key);
  const upn = (userName: string) => `${userName}@${cloud.identities.accountId}.onaliyun.com`;
  const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

  /** Tags a user named by its logon name, or by its bare name (both accepted: F-IMS-USER-TAGS). */
  const tag = (signer: Key, userName: string, value: string, name = upn(userName)) =>
    ims(signer).tagResources(
      new $Ims.TagResourcesRequest({
        resourceType: 'user',
        resourcePrincipalName: [name],
        tag: [new $Ims.TagResourcesRequestTag({ key: TAG_KEY, value })],
      }),
    );

  async function exceptionTagOf(userName: string): Promise<string | undefined> {
    const listed = await ims(cloud.identities.rootKey).listTagResources(
      new $Ims.ListTagResourcesRequest({ resourceType: 'user', resourcePrincipalName: [upn(userName)] }),
    );
    return listed.body?.tagResources?.tagResource?.find((t) => t.tagKey === TAG_KEY)?.tagValue;
  }

  async function decisionFor(userName: string): Promise<AuditRecord> {
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      (r) => r.guard === 'user-tag-guard' && r.eventName === 'TagResources' && r.before?.users === userName,
    );
    expect(records).toHaveLength(1);
    return records[0] as AuditRecord;
  }

  it('alerts, as critical, when a RAM user tags itself with an exception, and leaves the tag in alert mode', async () => {
    const { key } = cloud.identities.userWithKey('mallory');
    await tag(key, 'mallory', `until=${inDays(30)};reason=mine;rules=access-key-guard`);
    const record = await decisionFor('mallory');
    expect(record.decision).toBe('alerted');
    expect(record.rules.map((f) => [f.ruleId, f.severity, f.evidence.selfGranted])).toEqual([
      ['user-exception-tag-set', 'critical', true],
    ]);
    expect(record.rules[0]?.message).toMatch(/set by the user on itself: waives access-key-guard/);
    expect(await exceptionTagOf('mallory')).toBeDefined();
  }, 60_000);

  it('removes an exception tag a RAM user set on itself, in enforce mode', async () => {
    cloud.setConfig({ rules: { 'user-exception-tag-set': 'enforce' } });
    const { key } = cloud.identities.userWithKey('oscar');
    await tag(key, 'oscar', `until=${inDays(30)};reason=mine;rules=untrusted-source`);
    const record = await decisionFor('oscar');
    expect(record).toMatchObject({ decision: 'remediated', after: { exceptionTag: 'removed' } });
    expect(await exceptionTagOf('oscar')).toBeUndefined();
  }, 60_000);

  it('only alerts on an exception tag someone else set, even in enforce mode, saying what the model makes of it', async () => {
    cloud.setConfig({ rules: { 'user-exception-tag-set': 'enforce' } });
    cloud.identities.createUser('ci-deployer');
    await tag(
      cloud.identities.rootKey,
      'ci-deployer',
      'until=9999-12-31;reason=forever;rules=untrusted-source',
    );
    const record = await decisionFor('ci-deployer');
    expect(record.decision).toBe('alerted');
    expect(record.rules.map((f) => [f.severity, f.evidence.selfGranted])).toEqual([['high', false]]);
    expect(String(record.rules[0]?.evidence.verdict)).toMatch(
      /^ignored by ossguard \(until=9999-12-31 is more than/,
    );
    expect(await exceptionTagOf('ci-deployer')).toBe(
      'until=9999-12-31;reason=forever;rules=untrusted-source',
    );
  }, 60_000);

  it('is judged from the trail alone when the EventBridge trigger is switched off', async () => {
    cloud.setConfig({ rules: { 'user-exception-tag-set': 'alert' } });
    cloud.setTriggerEnabled('access-key-guard', 'access-key-creations', false);
    try {
      const { key } = cloud.identities.userWithKey('trudy');
      await tag(key, 'trudy', `until=${inDays(10)};reason=mine;rules=no-mfa`);
      const record = await decisionFor('trudy');
      expect([record.decision, record.route]).toEqual(['alerted', 'trail-guard/user-tag-guard']);
    } finally {
      cloud.setTriggerEnabled('access-key-guard', 'access-key-creations', true);
    }
  }, 60_000);
});
