import type { Rule } from '../types';
import { classifySource } from './source';
import { KEY_RULE_BASE, type KeySubject } from './subject';

export const untrustedSource: Rule<KeySubject> = {
  id: 'untrusted-source',
  title: 'AccessKey created from an unexpected network',
  rationale:
    'Keys are normally created from the corporate network or a bastion host. A key minted from anywhere ' +
    'else is a strong sign of a stolen console session or credential.',
  docUrl:
    'https://www.alibabacloud.com/help/en/actiontrail/user-guide/query-events-in-the-actiontrail-console',
  severity: 'high',
  firesWhen:
    'the source IP is outside `accessKeys.allowedSourceCidrs` (`Internal` and service callers are trusted)',
  ...KEY_RULE_BASE,
  order: 40,
  readActions: ['ram:ListAccessKeys'],
  evaluate: (s) => {
    if (s.allowedSourceCidrs.length === 0) return undefined;
    const verdict = classifySource(s.creator, { cidrs: s.allowedSourceCidrs, vpcIds: [] });
    if (verdict !== 'untrusted' && verdict !== 'unknown') return undefined;
    return {
      ruleId: 'untrusted-source',
      severity: 'high',
      message: `AccessKey ${s.accessKeyId} was created from ${s.creator.sourceIp ?? 'an unrecorded address'}, outside the allowed networks`,
      evidence: { sourceIp: s.creator.sourceIp ?? null, verdict },
    };
  },
};
