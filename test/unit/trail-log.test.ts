import { describe, expect, it } from 'vitest';
import { EventParseError } from '../../shared/errors';
import { keepableRecord, parseEvents } from '../../shared/events/parse-actiontrail-events';
import {
  isObjectAclChange,
  recordFromTrailLog,
  routeOf,
  selectTrailRecords,
  type TrailLog,
} from '../../shared/events/trail-log';
import { parseLogTriggerEvent } from '../../shared/logtrigger/event';

/**
 * A PutObjectAcl data event with dotted `event.*` fields, lists as JSON text: the layout a logstore would hold
 * if the SLS field list's index subfields were fields of their own (F-SLS-TRAIL-INDEX-FIELDS).
 */
const putObjectAcl: TrailLog = {
  __topic__: 'actiontrail_event',
  __source__: 'actiontrail',
  __time__: '1767225600',
  owner_id: '1234567890123456',
  'event.eventId': 'A3F1C2D4-5B6E-4F70-8192-A3B4C5D6E7F8',
  'event.eventVersion': '1',
  'event.eventName': 'PutObjectAcl',
  'event.eventType': 'ApiCall',
  'event.eventRW': 'Write',
  'event.eventCategory': 'Data',
  'event.eventSource': 'photos.oss-cn-hangzhou.aliyuncs.com',
  'event.eventTime': '2026-01-01T00:00:00Z',
  'event.acsRegion': 'cn-hangzhou',
  'event.serviceName': 'Oss',
  'event.requestId': '6577A1B2C3D4E5F6A7B8C9D0',
  'event.sourceIpAddress': '203.0.113.7',
  'event.userAgent': 'aliyun-sdk-js/6.23.0',
  'event.isGlobal': 'false',
  'event.userIdentity.type': 'ram-user',
  'event.userIdentity.principalId': '20123456789012345',
  'event.userIdentity.accountId': '1234567890123456',
  'event.userIdentity.accessKeyId': 'LTAI5tAliceExampleKey',
  'event.userIdentity.userName': 'alice',
  'event.userIdentity.sessionContext.attributes.mfaAuthenticated': 'false',
  'event.requestParameters.bucketName': 'photos',
  'event.requestParameters.objectKey': 'a/b.jpg',
  'event.requestParameters.x-oss-object-acl': 'public-read',
  'event.referencedResources.ACS::OSS::Bucket': '["photos"]',
  'event.referencedResources.ACS::OSS::Object': '["photos/a/b.jpg"]',
};

const without = (log: TrailLog, ...keys: string[]): TrailLog =>
  Object.fromEntries(Object.entries(log).filter(([key]) => !keys.includes(key)));

describe('trail logs rebuilt as ActionTrail records', () => {
  it('turns a flattened PutObjectAcl log into the change the EventBridge path would see', () => {
    const [item] = parseEvents([recordFromTrailLog(putObjectAcl)]);
    expect(item?.kind).toBe('change');
    if (item?.kind !== 'change') return;
    expect(item.record).toMatchObject({
      dedupeKey: 'A3F1C2D4-5B6E-4F70-8192-A3B4C5D6E7F8',
      eventName: 'PutObjectAcl',
      service: 'Oss',
      region: 'cn-hangzhou',
      actor: { type: 'ram-user', userName: 'alice', mfaAuthenticated: false, sourceIp: '203.0.113.7' },
      resources: { bucket: 'photos', objectKey: 'a/b.jpg' },
      requestParameters: { 'x-oss-object-acl': 'public-read' },
    });
  });

  it('reads the record from a JSON `event` field and from JSON text in a dotted field alike', () => {
    const nested = recordFromTrailLog(putObjectAcl);
    const whole: TrailLog = { __topic__: 'actiontrail_audit_event', event: JSON.stringify(nested) };
    const requestParameters = JSON.stringify(nested.requestParameters);
    const mixed: TrailLog = {
      ...without(
        putObjectAcl,
        'event.requestParameters.bucketName',
        'event.requestParameters.objectKey',
        'event.requestParameters.x-oss-object-acl',
      ),
      'event.requestParameters': requestParameters,
    };
    expect(recordFromTrailLog(whole)).toEqual(nested);
    expect(recordFromTrailLog(mixed)).toEqual(nested);
  });

  it.each<[string, TrailLog, RegExp]>([
    ['another topic', { ...putObjectAcl, __topic__: 'nginx_access' }, /topic nginx_access/],
    ['no event fields at all', { __topic__: 'actiontrail_audit_event', owner_id: '1' }, /no `event` field/],
    ['an `event` field that is not JSON', { event: '{"eventName": ' }, /not a JSON object/],
    ['a field nested under a scalar', { 'event.eventName': 'X', 'event.eventName.y': 'z' }, /not an object/],
  ])('refuses a log with %s', (_what, log, message) => {
    expect(() => recordFromTrailLog(log)).toThrow(EventParseError);
    expect(() => recordFromTrailLog(log)).toThrow(message);
  });
});

describe('which trail logs are object ACL changes', () => {
  const log = (name: string, acl?: string): TrailLog => ({
    ...without(putObjectAcl, 'event.requestParameters.x-oss-object-acl'),
    'event.eventName': name,
    ...(acl === undefined ? {} : { 'event.requestParameters.x-oss-object-acl': acl }),
  });

  it.each<[string, TrailLog, boolean]>([
    ['PutObjectAcl', putObjectAcl, true],
    ['PutObjectAcl whatever its parameters', log('PutObjectAcl'), true],
    ['PutObject with x-oss-object-acl', log('PutObject', 'public-read'), true],
    ['CopyObject with x-oss-object-acl', log('CopyObject', 'public-read-write'), true],
    ['AppendObject with x-oss-object-acl', log('AppendObject', 'public-read'), true],
    ['PutObject without an ACL header', log('PutObject'), false],
    ['PostObject with x-oss-object-acl', log('PostObject', 'public-read'), true],
    ['GetObject', log('GetObject'), false],
    ['DeleteObject, even with the header', log('DeleteObject', 'public-read'), false],
    ['PutBucketAcl (a management event)', log('PutBucketAcl', 'public-read'), false],
  ])('%s: %s', (_what, entry, expected) => {
    expect(isObjectAclChange(recordFromTrailLog(entry))).toBe(expected);
  });

  it.each<[string, TrailLog, string | undefined]>([
    ['PutBucketAcl goes to the ACL guard', log('PutBucketAcl'), 'oss-acl-guard'],
    ['PutObjectAcl goes to the ACL guard', putObjectAcl, 'oss-acl-guard'],
    ['PutBucketPolicy goes to the policy guard', log('PutBucketPolicy'), 'oss-policy-guard'],
    ['CreateAccessKey goes to the key guard', log('CreateAccessKey'), 'access-key-guard'],
    ['a PutObject showing no ACL is re-checked', log('PutObject'), 'object-acl-recheck'],
    ['a CompleteMultipartUpload is re-checked', log('CompleteMultipartUpload'), 'object-acl-recheck'],
    [
      'an InitiateMultipartUpload is re-checked, the published record of an upload',
      log('InitiateMultipartUpload'),
      'object-acl-recheck',
    ],
    ['an UploadPart is re-checked', log('UploadPart'), 'object-acl-recheck'],
    ['a PostObject is re-checked', log('PostObject'), 'object-acl-recheck'],
    ['a PutSymlink is re-checked', log('PutSymlink'), 'object-acl-recheck'],
    ['an AbortMultipartUpload goes nowhere', log('AbortMultipartUpload'), undefined],
    [
      'a failed PutObject is not re-checked',
      { ...log('PutObject'), 'event.errorCode': 'AccessDenied' },
      undefined,
    ],
    ['GetObject goes nowhere', log('GetObject'), undefined],
    [
      'IMS TagResources of a RAM user goes to the user-tag guard',
      { ...log('TagResources'), 'event.requestParameters': '{"ResourceType":"user"}' },
      'user-tag-guard',
    ],
    ['an UpdateRole goes to the role-trust guard', log('UpdateRole'), 'role-trust-guard'],
    ['a DeleteRole goes to the role-trust guard', log('DeleteRole'), 'role-trust-guard'],
    [
      'an AttachPolicyToRole stays with the identity-policy guard',
      log('AttachPolicyToRole'),
      'identity-policy-guard',
    ],
    [
      "another service's TagResources goes nowhere",
      { ...log('TagResources'), 'event.requestParameters': '{"ResourceType":"instance"}' },
      undefined,
    ],
  ])('%s', (_what, entry, expected) => {
    expect(routeOf(recordFromTrailLog(entry))).toBe(expected);
  });

  it('keeps every route in log order, counts the rest, and never drops a good record', () => {
    const broken: TrailLog = { __topic__: 'actiontrail_audit_event', event: 'not json' };
    const nameless = without(putObjectAcl, 'event.eventName');
    const selection = selectTrailRecords([
      log('GetObject'),
      putObjectAcl,
      broken,
      log('PutObject'),
      nameless,
      log('PutObject', 'public-read'),
      log('PutBucketPolicy'),
    ]);
    expect(selection.ignored).toBe(1);
    expect(selection.malformed.map((m) => m.index)).toEqual([2, 4]);
    expect(selection.routes.get('object-acl-recheck')).toHaveLength(1);
    expect(selection.routes.get('oss-policy-guard')).toHaveLength(1);
    const items = parseEvents(selection.routes.get('oss-acl-guard') ?? [], {
      accept: new Set(['PutObjectAcl', 'PutObject']),
    });
    expect(items.map((i) => i.kind)).toEqual(['change', 'invalid', 'invalid', 'change']);
  });
});

describe('the log trigger event', () => {
  const documented = {
    parameter: {},
    source: {
      endpoint: 'http://cn-hangzhou-intranet.log.aliyuncs.com',
      projectName: 'fc-test-project',
      logstoreName: 'fc-test-logstore',
      shardId: 0,
      beginCursor: 'MTUyOTQ4MDIwOTY1NTk3ODQ2Mw==',
      endCursor: 'MTUyOTQ4MDIwOTY1NTk3ODQ2NA==',
    },
    jobName: '1f7043ced683de1a4e3d8d70b5a412843d81****',
    taskId: 'c2691505-38da-4d1b-998a-f1d4bb8c****',
    cursorTime: 1529486425,
  };

  it('parses the documented sample as FC passes it, a Buffer', () => {
    expect(parseLogTriggerEvent(Buffer.from(JSON.stringify(documented)))).toEqual(documented);
  });

  it('accepts numbers as strings, a null parameter and an endpoint without a scheme', () => {
    const loose = {
      ...documented,
      parameter: null,
      cursorTime: '1529486425',
      source: { ...documented.source, shardId: '3', endpoint: 'cn-hangzhou.log.aliyuncs.com' },
    };
    expect(parseLogTriggerEvent(JSON.stringify(loose))).toMatchObject({
      parameter: {},
      cursorTime: 1529486425,
      source: { shardId: 3, endpoint: 'https://cn-hangzhou.log.aliyuncs.com' },
    });
  });

  it.each<[string, string, RegExp]>([
    ['not JSON', '{', /not JSON/],
    ['an EventBridge CloudEvent', JSON.stringify({ specversion: '1.0', id: 'x' }), /source/],
    [
      'a range without an end cursor',
      JSON.stringify({ ...documented, source: { ...documented.source, endCursor: undefined } }),
      /source\.endCursor/,
    ],
    [
      'a negative shard',
      JSON.stringify({ ...documented, source: { ...documented.source, shardId: -1 } }),
      /source\.shardId/,
    ],
  ])('refuses %s', (_what, body, message) => {
    expect(() => parseLogTriggerEvent(body)).toThrow(message);
  });
});

describe('a record kept for later (the deferred-work queue)', () => {
  it('keeps no AccessKey secret, no password and no parameter the parser does not read', () => {
    const kept = keepableRecord({
      eventId: 'e1',
      eventName: 'CreateAccessKey',
      requestParameters: { UserName: 'alice', Password: 'hunter2' },
      responseElements: { AccessKey: { AccessKeyId: 'LTAI5tExample', AccessKeySecret: 'the-secret' } },
    });
    expect(JSON.stringify(kept)).not.toMatch(/hunter2|the-secret/);
    expect(kept).toEqual({
      eventId: 'e1',
      eventName: 'CreateAccessKey',
      requestParameters: { UserName: 'alice' },
      responseElements: { AccessKey: { AccessKeyId: 'LTAI5tExample' } },
    });
  });
});
