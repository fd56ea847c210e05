import type { Rule } from '../types';
import { KEY_USE_RULE_BASE, type KeyUseSubject, maskKeyId, signingKeyOf } from './subject';

export const rootKeyInUse: Rule<KeyUseSubject> = {
  id: 'root-key-in-use',
  order: 10,
  title: "The Alibaba Cloud account's own AccessKey signed an API call",
  rationale:
    'The account AccessKey holds every permission on every API and no policy can narrow it; OSS should be ' +
    'reached through RAM users or STS. Any call it signs means a root key exists and is in use somewhere.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/reduce-the-risks-of-leaking-accesskey-pairs',
  severity: 'critical',
  firesWhen:
    'any API call of any service is signed with a root AccessKey (console sessions are not); one alert per key per hour',
  ...KEY_USE_RULE_BASE,
  // A role cannot disable the account's own key (F-IMS-UPDATEACCESSKEY): alert only, with the console steps.
  readActions: [],
  evaluate: (s) => {
    const key = signingKeyOf(s);
    if (!key || s.actor.type !== 'root-account') return undefined;
    return {
      ruleId: 'root-key-in-use',
      severity: 'critical',
      message: `the account's own AccessKey ${maskKeyId(key)} called ${s.service} ${s.eventName} from ${s.actor.sourceIp ?? 'an unrecorded address'}`,
      evidence: {
        accessKeyId: maskKeyId(key),
        service: s.service,
        call: s.eventName,
        sourceIp: s.actor.sourceIp ?? null,
      },
    };
  },
};
