import type { Rule } from '../types';

/** A RAM user as the sweep finds it: whether it can sign in to the console, and whether it has an MFA device. */
export interface ConsoleUserSubject {
  userName: string;
  consoleLogin: boolean;
  mfaDevice: boolean;
}

export const consoleUserWithoutMfa: Rule<ConsoleUserSubject> = {
  id: 'console-user-without-mfa',
  title: 'A RAM user can sign in to the console without an MFA device',
  rationale:
    'A console password alone is one phishing mail away from a session that can mint keys; the OSS best ' +
    'practices ask for MFA on every RAM user who signs in.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/user-guide/bind-an-mfa-device-to-a-ram-user',
  severity: 'high',
  firesWhen: 'the sweep finds a user with a console login profile and no MFA device',
  guard: 'console-mfa-guard',
  defaultMode: 'alert',
  readActions: ['ram:ListUsers', 'ram:GetLoginProfile', 'ram:GetUserMFAInfo'],
  evaluate: (s) =>
    s.consoleLogin && !s.mfaDevice
      ? {
          ruleId: 'console-user-without-mfa',
          severity: 'high',
          message: `RAM user ${s.userName} can sign in to the console and has no MFA device`,
          evidence: { user: s.userName, consoleLogin: true, mfaDevice: false },
        }
      : undefined,
};
