import { classifySource, noNetworksAllowed } from '../keys/source';
import type { Rule } from '../types';
import { KEY_USE_RULE_BASE, type KeyUseSubject, maskKeyId, signingKeyOf } from './subject';

export const keyUsedOutsideNetwork: Rule<KeyUseSubject> = {
  id: 'key-used-outside-network',
  order: 20,
  title: 'An AccessKey signed a call from outside its allowed networks',
  rationale:
    'A key that works from anywhere is exactly what a leak turns into an incident. Keys of programs run from ' +
    'known networks; a call from elsewhere is the leaked-key case the OSS best practices warn about.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/reduce-the-risks-of-leaking-accesskey-pairs',
  severity: 'high',
  firesWhen:
    'a call signed with an AccessKey comes from an address outside the networks allowed for that key or user (`accessKeys.allowedNetworks`, else `accessKeys.allowedSourceCidrs`); never disables a root key or ossguard’s own credentials',
  ...KEY_USE_RULE_BASE,
  readActions: ['ram:ListAccessKeys'],
  remediation: {
    id: 'disable-access-key',
    description: 'disable the AccessKey',
    actions: ['ram:UpdateAccessKey'],
  },
  // Only an address known to be outside fires: an unrecorded one, `Internal` or a service caller is no
  // ground for disabling a key that may run production.
  evaluate: (s) => {
    const key = signingKeyOf(s);
    if (!key || noNetworksAllowed(s.allowed)) return undefined;
    if (classifySource(s.actor, s.allowed) !== 'untrusted') return undefined;
    return {
      ruleId: 'key-used-outside-network',
      severity: 'high',
      message: `AccessKey ${maskKeyId(key)} of ${s.actor.type === 'root-account' ? 'the account' : (s.actor.userName ?? 'an unnamed user')} called ${s.service} ${s.eventName} from ${s.actor.sourceIp}, outside its allowed networks`,
      evidence: {
        accessKeyId: maskKeyId(key),
        user: s.actor.userName ?? null,
        service: s.service,
        call: s.eventName,
        sourceIp: s.actor.sourceIp ?? null,
        vpcId: s.actor.vpcId ?? null,
      },
    };
  },
};
