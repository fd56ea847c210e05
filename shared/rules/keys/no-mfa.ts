import type { Rule } from '../types';
import { KEY_RULE_BASE, type KeySubject } from './subject';

export const noMfa: Rule<KeySubject> = {
  id: 'no-mfa',
  title: 'AccessKey created from a session without MFA',
  rationale:
    'Creating long-lived credentials is a sensitive action; without MFA a stolen password or key is enough ' +
    'to mint new keys that outlive the original compromise.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/user-guide/bind-an-mfa-device-to-a-ram-user',
  severity: 'medium',
  firesWhen: "the creator's session was not MFA-authenticated",
  ...KEY_RULE_BASE,
  order: 30,
  readActions: ['ram:ListAccessKeys'],
  // Calls signed with an AccessKey carry no session context at all: that is "not MFA", not "unknown".
  evaluate: (s) =>
    s.creator.type === 'system' || s.creator.mfaAuthenticated === true
      ? undefined
      : {
          ruleId: 'no-mfa',
          severity: 'medium',
          message: `AccessKey ${s.accessKeyId} was created by ${s.creator.userName ?? s.creator.type} without MFA`,
          evidence: { mfaAuthenticated: s.creator.mfaAuthenticated ?? null },
        },
};
