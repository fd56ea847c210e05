import { randomUUID } from 'node:crypto';
import type { EmittedRecord } from '../../shared/events/actiontrail-event';
import type { IdentityStore } from '../identity';

/**
 * The record ActionTrail keeps of a console sign-in, in the shape of the published samples
 * (test/fixtures/published/aassub-ConsoleSignin-ramuser.json, aascustomer-ConsoleSignin-root.json;
 * F-ACTIONTRAIL-CONSOLE-SIGNIN): a RAM user's comes from `AasSub` with `additionalEventData.mfaChecked`, the
 * account's from `AasCustomer` with `isMFAChecked` and `loginAccount`, both as strings, and neither names an
 * AccessKey. The local cloud has no console: tests sign in through this.
 */
export function consoleSigninRecord(
  identities: IdentityStore,
  who: { userName: string } | 'root',
  options: { mfa: boolean; sourceIp: string; region: string },
): EmittedRecord {
  const root = who === 'root';
  const user = root ? undefined : identities.users.get(who.userName);
  if (!root && !user) throw new Error(`no RAM user ${who.userName}`);
  const mfa = String(options.mfa);
  return {
    eventId: randomUUID(),
    eventVersion: 1,
    eventName: 'ConsoleSignin',
    eventType: 'ConsoleSignin',
    eventRW: 'Write',
    eventCategory: 'Management',
    eventSource: root ? 'http://account.aliyun.com/login/login_aliyun.htm' : 'signin.aliyun.com',
    eventTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    acsRegion: options.region,
    serviceName: root ? 'AasCustomer' : 'AasSub',
    isGlobal: true,
    requestId: randomUUID(),
    sourceIpAddress: options.sourceIp,
    userAgent: 'Mozilla/5.0 (local cloud console)',
    userIdentity: {
      type: root ? 'root-account' : 'ram-user',
      accountId: identities.accountId,
      principalId: root ? identities.accountId : user?.userId,
      userName: root ? 'root' : user?.userName,
    },
    requestParameters: {},
    referencedResources: {},
    additionalEventData: root ? { loginAccount: 'root', isMFAChecked: mfa } : { mfaChecked: mfa },
  };
}
