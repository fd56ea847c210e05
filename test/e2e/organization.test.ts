import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, MEMBER_ACCOUNTS } from '../../local/cloud';
import { newRequestId } from '../../local/identity';
import { ossRecord } from '../../local/oss/trail';
import { onRecipientBus, withRecipient } from '../../local/recipient';
import { DEFAULT_MEMBER_ROLE, MEMBER_SESSION_NAME } from '../../shared/deployment/names';
import { type ActingPrincipal, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { restoreLocalState, runCli, useLocalState } from '../helpers/cli';
import { auditRecords, startCloud } from './local-cloud';

const [B, C] = MEMBER_ACCOUNTS.map((m) => m.accountId) as [string, string];

/**
 * A member's change as the organization trail hands it to the deployment in A (F-ORG-TRAIL-RECIPIENT): the
 * record of a PutBucketAcl in `accountId`, made by `caller`. A's bus carries only A's events
 * (F-ORG-EVENTBRIDGE-ACCOUNT), so the function is invoked with it as trail-guard's routes would.
 */
function memberAclChange(cloud: LocalCloud, accountId: string, bucket: string, caller: ActingPrincipal) {
  const record = ossRecord({
    operation: 'PutBucketAcl',
    caller,
    request: {
      method: 'PUT',
      bucket,
      query: [],
      headers: { 'x-oss-acl': 'public-read' },
      body: Buffer.alloc(0),
      sourceIp: '198.51.100.9',
      userAgent: 'aliyun-sdk-js/6.23.0',
    },
    region: cloud.region,
    requestId: newRequestId(),
  });
  return onRecipientBus(wrapCloudEvent(withRecipient(record, accountId)));
}

const rootOf = (accountId: string): ActingPrincipal => ({
  kind: 'root-account',
  accountId,
  principalId: accountId,
  userName: 'root',
  accessKeyId: 'LTAIROOT000000000000',
  mfa: false,
});

async function bootstrapMembers(...accounts: string[]): Promise<void> {
  for (const account of accounts) {
    const result = await runCli('bootstrap', '--local', '--account', account);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(new RegExp(`role ${DEFAULT_MEMBER_ROLE}: created`));
  }
}

describe('one deployment guards the accounts of its organization', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startCloud({ organization: { accounts: [B] } });
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-')));
    await bootstrapMembers(B);
  }, 60_000);
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it('reverts a bucket made public in member B through the role it assumes there, and the record names both accounts', async () => {
    const owner = cloud.accountClient(B);
    await owner.putBucket('b-photos');
    await owner.putBucketACL('b-photos', 'public-read');
    const event = memberAclChange(cloud, B, 'b-photos', rootOf(B));
    const result = await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event));
    expect(result.ok).toBe(true);

    expect((await owner.getBucketACL('b-photos')).acl).toBe('private');
    const [record] = (await auditRecords(cloud)).filter((r) => r.eventId === event.data.eventId);
    expect(record).toMatchObject({
      decision: 'remediated',
      accountId: B,
      deployAccountId: cloud.identities.accountId,
    });
    // Sealed like every field: the MAC covers both account ids (shared/audit/record.ts).
    expect(record?.mac).toEqual(expect.any(String));
  });

  it('does not treat its own revert in B (the member role under its session name) as a new change', async () => {
    const own = memberAclChange(cloud, B, 'b-photos', {
      kind: 'assumed-role',
      accountId: B,
      principalId: `300000000000000002:${MEMBER_SESSION_NAME}`,
      userName: `${DEFAULT_MEMBER_ROLE}:${MEMBER_SESSION_NAME}`,
      accessKeyId: 'STS.MEMBER0000000000',
      mfa: false,
    });
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(own))).ok).toBe(true);
    const [record] = (await auditRecords(cloud)).filter((r) => r.eventId === own.data.eventId);
    expect(record).toMatchObject({ decision: 'skipped', accountId: B });
    expect(record?.reason).toMatch(
      new RegExp(`own role acs:ram::${B}:role/${DEFAULT_MEMBER_ROLE} .*loop prevention`),
    );
  });

  it('judges the member role under another session name: someone else who may assume it', async () => {
    const owner = cloud.accountClient(B);
    await owner.putBucket('b-impostor');
    await owner.putBucketACL('b-impostor', 'public-read');
    const event = memberAclChange(cloud, B, 'b-impostor', {
      kind: 'assumed-role',
      accountId: B,
      principalId: '300000000000000002:someone',
      userName: `${DEFAULT_MEMBER_ROLE}:someone`,
      accessKeyId: 'STS.MEMBER0000000001',
      mfa: false,
    });
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(event))).ok).toBe(true);
    expect((await owner.getBucketACL('b-impostor')).acl).toBe('private');
  });

  it('leaves an account outside the allow list alone, records the change as reported and alerts once a day', async () => {
    const owner = cloud.accountClient(C);
    await owner.putBucket('c-website');
    await owner.putBucketACL('c-website', 'public-read');
    const before = cloud.dingtalk.messages().length;
    const events = [
      memberAclChange(cloud, C, 'c-website', rootOf(C)),
      memberAclChange(cloud, C, 'c-website', rootOf(C)),
    ];
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(events))).ok).toBe(true);

    expect((await owner.getBucketACL('c-website')).acl).toBe('public-read');
    const records = await auditRecords(cloud);
    for (const event of events) {
      expect(records.find((r) => r.eventId === event.data.eventId)).toMatchObject({
        decision: 'reported',
        accountId: C,
        reason: expect.stringMatching(/not in organization\.accounts; reported, not acted on/),
      });
    }
    const digest = cloud.dingtalk.messages().slice(before);
    expect(digest).toHaveLength(1);
    const text = JSON.stringify(digest[0]?.body);
    expect(text).toContain(C);
    expect(text).toMatch(/2 change.*reported, not acted on/);

    // The same account later that day: recorded, not alerted again.
    const later = memberAclChange(cloud, C, 'c-website', rootOf(C));
    expect((await cloud.bus.invoke('oss-acl-guard', JSON.stringify(later))).ok).toBe(true);
    expect(cloud.dingtalk.messages().slice(before)).toHaveLength(1);
    expect((await auditRecords(cloud)).find((r) => r.eventId === later.data.eventId)?.decision).toBe(
      'reported',
    );
  });

  it('audit list filters by account', async () => {
    const { stdout, code } = await runCli('audit', 'list', '--local', '--accounts', C, '--json');
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { accountId?: string });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.accountId).toBe(C);
  });
});

describe('ossguard scan --accounts all', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    // dryRun: the buckets stay public for the scan to find, in A as in the members.
    cloud = await startCloud({ dryRun: true, organization: { accounts: 'all' } });
    useLocalState(cloud, mkdtempSync(join(tmpdir(), 'ossguard-org-scan-')));
    await bootstrapMembers(B, C);
  }, 60_000);
  afterAll(async () => {
    restoreLocalState();
    await cloud?.stop();
  });

  it("reports every account's exposures, each read through its member role", async () => {
    const exposed = { [cloud.identities.accountId]: 'a-public', [B]: 'b-public', [C]: 'c-public' };
    for (const [accountId, bucket] of Object.entries(exposed)) {
      const client = cloud.accountClient(accountId);
      await client.putBucket(bucket);
      await client.putBucketACL(bucket, 'public-read');
    }
    await cloud.settle();
    const { code, stdout, stderr } = await runCli('scan', '--local', '--accounts', 'all', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { accountId: string; bucket: string; rules: string[] });
    for (const [accountId, bucket] of Object.entries(exposed))
      expect(lines).toContainEqual(
        expect.objectContaining({ accountId, bucket, rules: ['bucket-acl-public-read'] }),
      );
  });
});
