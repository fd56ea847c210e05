import type { Rule } from '../types';
import { KEY_RULE_BASE, type KeySubject } from './subject';

export const keyForOtherUser: Rule<KeySubject> = {
  id: 'key-for-other-user',
  title: 'AccessKey created for a different user',
  rationale:
    'Whoever creates a key for someone else receives its secret: a common path for privilege escalation ' +
    'and for keys nobody owns. Users should create their own keys, or use STS instead.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair',
  severity: 'high',
  firesWhen: "the creator is not the key's owner",
  ...KEY_RULE_BASE,
  order: 20,
  readActions: ['ram:ListAccessKeys'],
  evaluate: (s) => {
    if (s.isRootKey || !s.owner) return undefined;
    const self = s.creator.type === 'ram-user' && s.creator.userName === s.owner;
    return self
      ? undefined
      : {
          ruleId: 'key-for-other-user',
          severity: 'high',
          message: `${s.creator.userName ?? s.creator.type} created AccessKey ${s.accessKeyId} for RAM user ${s.owner}`,
          evidence: { creator: s.creator.userName ?? null, creatorType: s.creator.type, owner: s.owner },
        };
  },
};
