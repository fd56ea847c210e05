import { KEY_GUARD_EVENTS } from '../../events/names';
import type { Rule } from '../types';
import type { KeySubject } from './subject';

export const rootAccessKey: Rule<KeySubject> = {
  id: 'root-access-key',
  title: 'AccessKey created for the Alibaba Cloud account (root)',
  rationale:
    'A root AccessKey has every permission on every resource and cannot be limited by any policy. Alibaba ' +
    'Cloud advises never to create one: use RAM users with least privilege, or STS tokens.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair',
  severity: 'critical',
  firesWhen:
    'a key was created for the Alibaba Cloud account itself; a role cannot disable it, so the alert gives the console steps',
  guard: 'access-key-guard',
  events: KEY_GUARD_EVENTS,
  order: 10,
  // A role cannot disable the account's own key (F-IMS-UPDATEACCESSKEY): this rule can only alert.
  defaultMode: 'alert',
  readActions: ['ram:ListAccessKeys'],
  evaluate: (s) =>
    s.isRootKey
      ? {
          ruleId: 'root-access-key',
          severity: 'critical',
          message: `AccessKey ${s.accessKeyId} was created for the Alibaba Cloud account itself`,
          evidence: { creatorType: s.creator.type },
        }
      : undefined,
};
