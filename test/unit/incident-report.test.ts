import { describe, expect, it } from 'vitest';
import { callOf, type KeyCall } from '../../shared/incident/trail';
import { LEAKED_KEY as KEY, reportOf as report } from '../helpers/incident';

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

  it('lists the STS sessions minted with the key, with their role and expiry, from the AssumeRole records', () => {
    // The fields of ActionTrail's published AssumeRole sample (F-ACTIONTRAIL-STS-ASSUMEROLE).
    const assumeRole = (time: string, expiration: string, sessionName: string, errorCode?: string) =>
      call(time, 'AssumeRole', {
        eventId: `${time}-${sessionName}`,
        serviceName: 'Sts',
        requestParameters: {
          RoleSessionName: sessionName,
          DurationSeconds: 3600,
          RoleArn: 'acs:ram::159498693826****:role/deployer',
        },
        responseElements: {
          assumedRoleUser: { arn: `acs:ram::159498693826****:role/deployer/${sessionName}` },
          credentials: { accessKeyId: `STS.${sessionName}0001`, accessKeySecret: '****', expiration },
        },
        ...(errorCode ? { errorCode } : {}),
      });
    const r = report(
      [
        assumeRole('2026-12-05T22:00:00Z', '2026-12-05T23:00:00Z', 'old'),
        assumeRole('2026-12-05T23:30:00Z', '2026-12-06T00:30:00Z', 'live'),
        assumeRole('2026-12-05T23:40:00Z', '', 'refused', 'NoPermission'),
      ],
      { owner: 'ci', status: 'Active', otherKeys: [] },
    );
    expect(r.sessions).toEqual([
      {
        time: '2026-12-05T22:00:00Z',
        sourceIp: '203.0.113.9',
        roleArn: 'acs:ram::159498693826****:role/deployer',
        sessionName: 'old',
        stsAccessKeyId: 'STS.old0001',
        expiration: '2026-12-05T23:00:00Z',
        validAtReport: false,
      },
      expect.objectContaining({
        sessionName: 'live',
        expiration: '2026-12-06T00:30:00Z',
        validAtReport: true,
      }),
    ]);
    expect(r.key.stillInUse).toContain('1 STS session(s) minted with this key may still be valid');
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
