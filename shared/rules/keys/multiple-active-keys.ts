import type { Rule } from '../types';
import { KEY_RULE_BASE, type KeySubject } from './subject';

export const multipleActiveKeys: Rule<KeySubject> = {
  id: 'multiple-active-keys',
  title: 'User holds more than one active AccessKey',
  rationale:
    'A second active key is only needed briefly while rotating. Two long-lived keys double the exposure ' +
    'and usually mean the old one was never retired.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/user-guide/rotate-an-accesskey-pair',
  severity: 'medium',
  firesWhen: 'the owner now holds more than one active key',
  ...KEY_RULE_BASE,
  order: 50,
  readActions: ['ram:ListAccessKeys'],
  evaluate: (s) =>
    s.activeKeys > 1
      ? {
          ruleId: 'multiple-active-keys',
          severity: 'medium',
          message: `${s.owner ?? 'the account'} now holds ${s.activeKeys} active AccessKeys`,
          evidence: { activeKeys: s.activeKeys },
        }
      : undefined,
};
