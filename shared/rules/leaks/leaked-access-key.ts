import { KEY_RULE_BASE } from '../keys/subject';
import type { Rule } from '../types';

/** An AccessKey that Security Center reports as leaked, with the key's live state from RAM. */
export interface LeakSubject {
  accessKeyId: string;
  /** The finding's id in Security Center, or `manual` for a key reported by hand (`ossguard incident --disable`). */
  findingId: string;
  /** Where the key was found (a public commit's URL), when Security Center says. */
  url: string;
  /** The RAM user that owns the key; absent for the account's own (root) key. */
  owner?: string;
  isRootKey: boolean;
  /** Someone whitelisted the finding in Security Center: they judged it no leak. */
  whitelisted: boolean;
  /** Whether Security Center found the leaked secret valid (F-SAS-LEAK-DETAIL); absent for a key reported by hand. */
  tokenValid?: 'valid' | 'invalid' | 'unconfirmed';
  /**
   * Why the finding does not match a key ossguard may act on in this account (RAM/IMS know no such key, it
   * belongs to another kind of owner than the finding says, or the leaked secret is not valid): alert only.
   */
  mismatch?: string;
}

export const leakedAccessKey: Rule<LeakSubject> = {
  ...KEY_RULE_BASE,
  remediation: {
    id: 'disable-access-key',
    description: 'disable the leaked AccessKey',
    actions: ['ram:UpdateAccessKey'],
  },
  id: 'leaked-access-key',
  title: 'AccessKey reported as leaked by Security Center',
  rationale:
    'If an AccessKey pair is leaked, unauthorized users can access your OSS resources. Security Center finds ' +
    'keys published in public code; until the key is disabled, anyone who copied it acts as its owner.',
  docUrl:
    'https://www.alibabacloud.com/help/en/security-center/developer-reference/api-sas-2018-12-03-describeaccesskeyleaklist',
  severity: 'critical',
  firesWhen:
    'Security Center reports an active key as leaked (or one is reported by hand) and nobody whitelisted the finding; a root key is alerted with the steps to rotate it',
  readActions: [
    'yundun-aegis:DescribeAccesskeyLeakList',
    'yundun-sas:DescribeAccessKeyLeakDetail',
    'ram:GetUser',
    'ram:ListAccessKeys',
  ],
  evaluate: (s) =>
    s.whitelisted
      ? undefined
      : {
          ruleId: 'leaked-access-key',
          severity: 'critical',
          message: `AccessKey ${s.accessKeyId} was reported as leaked${s.url ? ` at ${s.url}` : ''}`,
          evidence: {
            findingId: s.findingId,
            url: s.url || null,
            owner: s.owner ?? null,
            isRootKey: s.isRootKey,
            tokenValid: s.tokenValid ?? null,
            mismatch: s.mismatch ?? null,
          },
        },
};
