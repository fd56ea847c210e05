import { readFileSync } from 'node:fs';
import Ram, * as $Ram from '@alicloud/ram20150501';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalCloud } from '../../local/cloud';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { auditRecords, startCloud, userClient } from './local-cloud';

/**
 * The local cloud enforces deploy/role-policy.json on every OSS and RAM call the functions make, so a
 * permission the code needs but the policy lacks fails an end-to-end run the way it would fail on FC.
 */
interface Case {
  what: string;
  /** The action taken out of a copy of the role policy; undefined runs with the policy as it is. */
  remove?: string;
  eventName: string;
  act(cloud: LocalCloud): Promise<void>;
  decision: string;
  errorCode?: string;
}

const makePublic = async (cloud: LocalCloud) => {
  const alice = userClient(cloud, 'alice');
  await alice.putBucket('photos');
  await cloud.settle();
  await alice.putBucketACL('photos', 'public-read');
};

const createKeyForBob = async (cloud: LocalCloud) => {
  const { key } = cloud.identities.userWithKey('alice');
  cloud.identities.createUser('bob');
  const ram = sdkClient(Ram, popConfig(key, 'ram.aliyuncs.com', 'cn-shanghai', cloud.endpoints.ram));
  await ram.createAccessKey(new $Ram.CreateAccessKeyRequest({ userName: 'bob' }));
};

const CASES: Case[] = [
  {
    what: 'reverts a public bucket with the policy as it is',
    eventName: 'PutBucketAcl',
    act: makePublic,
    decision: 'remediated',
  },
  {
    what: 'fails the revert with AccessDenied without oss:PutBucketAcl',
    remove: 'oss:PutBucketAcl',
    eventName: 'PutBucketAcl',
    act: makePublic,
    decision: 'failed',
    errorCode: 'AccessDenied',
  },
  {
    what: 'fails the re-read with AccessDenied without oss:GetBucketAcl',
    remove: 'oss:GetBucketAcl',
    eventName: 'PutBucketAcl',
    act: makePublic,
    decision: 'failed',
    errorCode: 'AccessDenied',
  },
  {
    what: "fails a new key's check with NoPermission without ram:ListAccessKeys",
    remove: 'ram:ListAccessKeys',
    eventName: 'CreateAccessKey',
    act: createKeyForBob,
    decision: 'failed',
    errorCode: 'NoPermission',
  },
];

/** A copy of the repo's role policy without one action. */
function policyWithout(action: string): string {
  const policy = JSON.parse(readFileSync('deploy/role-policy.json', 'utf8')) as {
    Statement: Array<{ Action: string[] }>;
  };
  const statement = policy.Statement.find((s) => s.Action.includes(action));
  if (!statement) throw new Error(`${action} is not in the role policy`);
  statement.Action = statement.Action.filter((a) => a !== action);
  return JSON.stringify(policy);
}

describe('the function role policy, enforced by the local cloud', () => {
  let cloud: LocalCloud | undefined;
  afterEach(async () => {
    await cloud?.stop();
    cloud = undefined;
  });

  it.each(CASES)('$what', async (c) => {
    cloud = await startCloud({}, c.remove ? { rolePolicy: policyWithout(c.remove) } : {});
    await c.act(cloud);
    await cloud.settle();
    const records = (await auditRecords(cloud)).filter(
      (r) => r.eventName === c.eventName && r.actor.userName === 'alice',
    );
    expect(records.map((r) => r.decision)).toEqual([c.decision]);
    expect(records[0]?.error?.code).toBe(c.errorCode);
  });
});
