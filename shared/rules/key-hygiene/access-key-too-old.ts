import type { Rule } from '../types';
import { STALE_KEY_RULE_BASE, type StaleKeySubject, staleKeyEvidence } from './subject';

export const accessKeyTooOld: Rule<StaleKeySubject> = {
  id: 'access-key-too-old',
  order: 10,
  title: 'An active AccessKey is older than the configured age',
  rationale:
    'The longer a key lives, the more places it has been copied to. The OSS best practices prefer STS ' +
    'temporary credentials; a long-lived key should at least be rotated.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/user-guide/rotate-an-accesskey-pair',
  severity: 'medium',
  firesWhen: 'the sweep finds an active key older than `accessKeys.maxAgeDays` (default 90)',
  ...STALE_KEY_RULE_BASE,
  readActions: ['ram:ListUsers', 'ram:ListAccessKeys'],
  // Rotating a key in use is the owner's work: an old key that is used is only reported.
  evaluate: (s) =>
    s.ageDays >= s.maxAgeDays
      ? {
          ruleId: 'access-key-too-old',
          severity: 'medium',
          message: `AccessKey ${s.accessKeyId} of ${s.userName} is ${s.ageDays} days old (limit ${s.maxAgeDays})`,
          evidence: staleKeyEvidence(s),
        }
      : undefined,
};
