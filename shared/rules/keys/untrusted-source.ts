import { BlockList, isIP } from 'node:net';
import type { Rule } from '../types';
import { KEY_RULE_BASE, type KeySubject } from './subject';

/**
 * ActionTrail writes `Internal` when a call cannot be told apart from internal or VPC ranges, and a service
 * domain (e.g. `ram.aliyuncs.com`) for calls Alibaba Cloud services make: neither is an internet address we
 * could judge, so both are trusted here and the evidence says so.
 */
function classify(
  sourceIp: string | undefined,
  cidrs: readonly string[],
): 'trusted' | 'untrusted' | 'internal' | 'service' | 'unknown' {
  if (!sourceIp) return 'unknown';
  if (sourceIp === 'Internal') return 'internal';
  const family = isIP(sourceIp);
  if (family === 0) return /\.aliyuncs\.com$/.test(sourceIp) ? 'service' : 'unknown';
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits] = cidr.split('/');
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list.check(sourceIp, family === 6 ? 'ipv6' : 'ipv4') ? 'trusted' : 'untrusted';
}

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
    const verdict = classify(s.creator.sourceIp, s.allowedSourceCidrs);
    if (verdict !== 'untrusted' && verdict !== 'unknown') return undefined;
    return {
      ruleId: 'untrusted-source',
      severity: 'high',
      message: `AccessKey ${s.accessKeyId} was created from ${s.creator.sourceIp ?? 'an unrecorded address'}, outside the allowed networks`,
      evidence: { sourceIp: s.creator.sourceIp ?? null, verdict },
    };
  },
};
