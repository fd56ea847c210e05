import { describe, expect, it } from 'vitest';
import { buildRecord, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import { actionTrailRecord, cloudEventEnvelope } from '../../shared/events/schemas';
import { publishedFixtures } from '../helpers/published';

/** Fields of the record the schema declares and the input carries, that the schema would read as absent. */
function dropped(record: Record<string, unknown>): string[] {
  const read = actionTrailRecord.parse(record) as Record<string, unknown>;
  return Object.keys(actionTrailRecord.shape).filter((key) => {
    const given = record[key];
    const present =
      (typeof given === 'string' && given !== '') || (typeof given === 'object' && given !== null);
    return present && read[key] === undefined;
  });
}

describe('the event schemas', () => {
  const record = buildRecord({
    caller: {
      kind: 'ram-user',
      accountId: '1234567890123456',
      principalId: '2000000000000001',
      userName: 'alice',
      accessKeyId: 'LTAI5tExample',
      mfa: true,
    },
    eventName: 'PutBucketAcl',
    serviceName: 'Oss',
    eventSource: 'examplebucket.oss-cn-hangzhou.aliyuncs.com',
    region: 'cn-hangzhou',
    requestId: 'request-1',
    sourceIp: '203.0.113.7',
    userAgent: 'aliyun-sdk-js/6.23.0',
    requestParameters: { bucketName: 'examplebucket', 'x-oss-acl': 'public-read' },
    referencedResources: { 'ACS::OSS::Bucket': ['examplebucket'] },
  });

  it('read every field the local cloud emits (shared/events/actiontrail-event.ts) with the type it sends', () => {
    expect(dropped(record as unknown as Record<string, unknown>)).toEqual([]);
    const read = actionTrailRecord.parse(record);
    expect(read.userIdentity).toMatchObject({
      accountId: '1234567890123456',
      userName: 'alice',
      sessionContext: { attributes: { mfaAuthenticated: true } },
    });
    const event = wrapCloudEvent(record);
    expect(cloudEventEnvelope.parse(event)).toMatchObject({
      id: event.id,
      source: 'acs.oss',
      type: 'oss:ActionTrail:ApiCall',
      time: event.time,
      aliyunregionid: 'cn-hangzhou',
      aliyunaccountid: '1234567890123456',
      data: record,
    });
  });

  it.each(
    publishedFixtures()
      .filter((f) => !f.malformed)
      .map((f) => [f.name, f.record] as const),
  )(
    'read every field of the published record %s with the type Alibaba Cloud publishes',
    (_name, published) => {
      expect(dropped(published)).toEqual([]);
    },
  );

  it('read a field of the wrong type as absent instead of failing the record', () => {
    const read = actionTrailRecord.parse({
      eventName: 'PutBucket',
      errorCode: '',
      userIdentity: 'root',
      acsRegion: 7,
    });
    expect(read).toMatchObject({ eventName: 'PutBucket', errorCode: undefined, userIdentity: undefined });
    expect(read.acsRegion).toBeUndefined();
  });
});
