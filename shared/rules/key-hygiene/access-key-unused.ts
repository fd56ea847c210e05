import type { Rule } from '../types';
import { STALE_KEY_RULE_BASE, type StaleKeySubject, staleKeyEvidence } from './subject';

export const accessKeyUnused: Rule<StaleKeySubject> = {
  id: 'access-key-unused',
  order: 20,
  title: 'An active AccessKey has not been used for a long time',
  rationale:
    'A key nobody uses only waits to be leaked: switching it off costs nothing, and it can be switched back ' +
    'on if something still needed it.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/reduce-the-risks-of-leaking-accesskey-pairs',
  severity: 'medium',
  firesWhen:
    'the sweep finds an active key unused for `accessKeys.unusedDays` (default 90), or never used and that old',
  ...STALE_KEY_RULE_BASE,
  readActions: ['ram:ListUsers', 'ram:ListAccessKeys', 'ram:GetAccessKeyLastUsed'],
  remediation: {
    id: 'disable-access-key',
    description: 'disable the unused AccessKey',
    actions: ['ram:UpdateAccessKey'],
  },
  evaluate: (s) =>
    s.idleDays >= s.unusedDays
      ? {
          ruleId: 'access-key-unused',
          severity: 'medium',
          message: `AccessKey ${s.accessKeyId} of ${s.userName} has not been used for ${s.idleDays} days${s.lastUsedDate ? '' : ' (never used)'}`,
          evidence: { ...staleKeyEvidence(s), idleDays: s.idleDays },
        }
      : undefined,
};
