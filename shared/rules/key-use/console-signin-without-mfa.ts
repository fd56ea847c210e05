import type { Rule } from '../types';
import { KEY_USE_RULE_BASE, type KeyUseSubject } from './subject';

export const consoleSigninWithoutMfa: Rule<KeyUseSubject> = {
  id: 'console-signin-without-mfa',
  order: 30,
  title: 'Console sign-in without MFA',
  rationale:
    'MFA is what keeps a leaked password from becoming a console session; the OSS best practices ask for it ' +
    'on the account and on every RAM user who signs in.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/user-guide/bind-an-mfa-device-to-a-ram-user',
  severity: 'high',
  firesWhen:
    'a successful `ConsoleSignin` record says MFA was not checked (`mfaChecked`, or `isMFAChecked` for the account, is `"false"`)',
  ...KEY_USE_RULE_BASE,
  readActions: [],
  // Only a record that says "false" fires: one that does not say is not evidence of a sign-in without MFA.
  evaluate: (s) =>
    s.eventName === 'ConsoleSignin' && s.actor.mfaAuthenticated === false
      ? {
          ruleId: 'console-signin-without-mfa',
          severity: 'high',
          message: `${s.actor.type === 'root-account' ? 'the account owner (root)' : (s.actor.userName ?? 'a user')} signed in to the console without MFA from ${s.actor.sourceIp ?? 'an unrecorded address'}`,
          evidence: {
            user: s.actor.userName ?? null,
            identity: s.actor.type,
            sourceIp: s.actor.sourceIp ?? null,
          },
        }
      : undefined,
};
