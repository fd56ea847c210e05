import { describe, expect, it } from 'vitest';
import { buildReport, type KeyState } from '../../shared/incident/report';
import { callOf, type KeyCall } from '../../shared/incident/trail';

const KEY = 'LTAI5tLeaked000001';

function call(time: string, eventName: string, fields: Record<string, unknown> = {}): KeyCall {
  const parsed = callOf({
    eventId: `${time}-${eventName}`,
    eventTime: time,
    eventName,
    serviceName: 'Oss',
    acsRegion: 'cn-hangzhou',
    sourceIpAddress: '203.0.113.9',
    userIdentity: { type: 'ram-user', userName: 'ci', accessKeyId: KEY },
    ...fields,
  });
  if (!parsed) throw new Error('not a record');
  return parsed;
}

const report = (calls: KeyCall[], key: KeyState) =>
  buildReport({
    accessKeyId: KEY,
    calls,
    from: new Date('2026-12-01T00:00:00Z'),
    to: new Date('2026-12-06T00:00:00Z'),
    generatedAt: new Date('2026-12-06T00:00:00Z'),
    source: 'logstore',
    sourceNote: 'test',
    key,
  });

describe('the incident report', () => {
  it('names where the key was tried after it was disabled, and the other keys its owner still holds', () => {
    const r = report(
      [
        call('2026-12-02T10:00:00Z', 'GetObject', {
          eventRW: 'Read',
          requestParameters: { bucketName: 'a', objectKey: 'x' },
        }),
        call('2026-12-03T10:00:00Z', 'ListObjects', {
          eventRW: 'Read',
          errorCode: 'AccessDenied',
          sourceIpAddress: '198.51.100.7',
        }),
      ],
      {
        owner: 'ci',
        status: 'Inactive',
        disabledAt: '2026-12-03T00:00:00Z',
        otherKeys: [{ accessKeyId: 'LTAI5tOther0000001', status: 'Active' }],
      },
    );
    expect(r.key.triedAfterDisable.map((c) => c.sourceIp)).toEqual(['198.51.100.7']);
    expect(r.key.stillInUse).toContain('tried 1 time(s) after it was disabled');
    expect(r.key.stillInUse).toContain('198.51.100.7');
    expect(r.key.stillInUse).toContain('LTAI5tOther0000001');
    expect(r.sourceIps).toEqual([
      { ip: '203.0.113.9', calls: 1 },
      { ip: '198.51.100.7', calls: 1 },
    ]);
  });

  it('counts a record delivered twice once, and a RAM change as a change even without "Acl" in its name', () => {
    const twice = call('2026-12-02T10:00:00Z', 'CreateUser', { serviceName: 'Ram' });
    const r = report([twice, { ...twice }], { otherKeys: [] });
    expect(r.calls).toBe(1);
    expect(r.changes.map((c) => c.eventName)).toEqual(['CreateUser']);
    expect(r.key.stillInUse).toContain('No RAM user owns this key');
  });

  it('reads the key a record was signed with, and drops records with no name or time', () => {
    expect(
      callOf({ eventTime: 't', eventName: 'GetObject', userIdentity: { accessKeyId: 'LTAIother' } }),
    ).toMatchObject({
      accessKeyId: 'LTAIother',
    });
    expect(callOf({ eventName: 'GetObject' })).toBeUndefined();
  });
});
