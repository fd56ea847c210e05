import { describe, expect, it } from 'vitest';
import { ACL_GUARD_EVENTS } from '../../shared/events/names';
import { routeOf } from '../../shared/events/trail-log';
import { rulesOf } from '../../shared/rules';

/**
 * Every call that can switch Block Public Access off, at bucket and account level (F-OSS-BPA; their event
 * names are the API names, unverified: F-ACTIONTRAIL-OSS-EVENT-NAMES). test/e2e/acl-guard.test.ts switches each
 * off through the local cloud and sees it switched back on in enforce mode; the s.yaml filter is checked in
 * test/integration/deploy-syaml.test.ts.
 */
const SWITCH_OFFS = [
  ['PutBucketPublicAccessBlock', { bucketName: 'photos', BlockPublicAccess: 'false' }],
  ['DeleteBucketPublicAccessBlock', { bucketName: 'photos' }],
  ['PutPublicAccessBlock', { BlockPublicAccess: 'false' }],
  ['DeletePublicAccessBlock', {}],
] as const;

describe('every way to switch Block Public Access off', () => {
  it.each(SWITCH_OFFS)(
    '%s is an event oss-acl-guard handles, on EventBridge and in the trail',
    (eventName, params) => {
      expect(ACL_GUARD_EVENTS).toContain(eventName);
      expect(routeOf({ eventName, requestParameters: params })).toBe('oss-acl-guard');
      // A failed call changed nothing, but it is still the ACL guard's to record as skipped.
      expect(routeOf({ eventName, requestParameters: params, errorCode: 'AccessDenied' })).toBe(
        'oss-acl-guard',
      );
    },
  );

  it('is judged by rules that switch it back on in enforce mode, by default', () => {
    const bpa = rulesOf('oss-acl-guard').filter((r) => r.id.endsWith('-bpa-disabled'));
    expect(bpa.map((r) => [r.id, r.defaultMode, r.remediation?.actions])).toEqual([
      ['bucket-bpa-disabled', 'enforce', ['oss:PutBucketPublicAccessBlock']],
      ['account-bpa-disabled', 'enforce', ['oss:PutPublicAccessBlock']],
    ]);
  });
});
