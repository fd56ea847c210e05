import type { Rule } from '../types';
import { KEY_RULE_BASE, type KeySubject } from './subject';

export const consoleUserKey: Rule<KeySubject> = {
  id: 'console-user-key',
  title: 'A console user holds a long-lived AccessKey',
  rationale:
    'Alibaba Cloud recommends separating people (console logins) from programs (AccessKeys). A human ' +
    'holding a long-lived key tends to keep it on a laptop; programs should use roles and STS.',
  docUrl:
    'https://www.alibabacloud.com/help/en/ram/security-and-compliance/best-practices-for-using-an-accesskey-pair',
  severity: 'medium',
  firesWhen: 'the owner can also sign in to the console',
  ...KEY_RULE_BASE,
  order: 60,
  readActions: ['ram:GetLoginProfile'],
  evaluate: (s) =>
    s.owner && s.consoleLogin
      ? {
          ruleId: 'console-user-key',
          severity: 'medium',
          message: `RAM user ${s.owner} can sign in to the console and now also holds AccessKey ${s.accessKeyId}`,
          evidence: { consoleLogin: true },
        }
      : undefined,
};
