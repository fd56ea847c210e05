import { USER_TAG_EVENTS } from '../../events/names';
import type { Rule, RuleFinding } from '../types';
import type { UserTagSubject } from './subject';

/**
 * The user-level twin of exception-tag-set: the exception tag on a RAM user waives the key rules it names for
 * that user's keys (shared/guards/key-usage.ts keyExceptions), so whoever may tag a user may grant one. Each
 * tagging call that leaves the tag on a user is alerted with what the exception model makes of it (its rules,
 * its `until` within `exceptions.maxLifetimeDays`). A user that tags itself grants itself the exception: in
 * enforce mode that tag is removed; a tag set by someone else is the exception model working, alerted only.
 */
export const userExceptionTagSet: Rule<UserTagSubject> = {
  id: 'user-exception-tag-set',
  events: USER_TAG_EVENTS,
  title: 'An exception tag was set on a RAM user',
  rationale:
    'The exception tag on a RAM user waives key rules for its keys. Anyone allowed to tag users can set it, and a ' +
    'user allowed to tag itself can exempt its own keys: every such tag is alerted, a self-granted one removed.',
  docUrl: 'https://www.alibabacloud.com/help/en/ram/developer-reference/api-ims-2019-08-15-tagresources',
  severity: 'high',
  severityNote: 'high (critical when the user tagged itself)',
  firesWhen:
    'a user tagging call (IMS `TagResources`) leaves the exception tag (`exceptions.tagKey`) on a RAM user',
  guard: 'user-tag-guard',
  defaultMode: 'alert',
  readActions: ['ram:GetUser'],
  remediation: {
    id: 'remove-self-granted-exception-tag',
    description:
      'remove the exception tag from a user that set it on itself (a tag set by someone else is alerted only)',
    actions: ['ram:UntagResources'],
  },
  evaluate: (s) =>
    s.users.flatMap((u): RuleFinding[] =>
      u.exceptionTag === undefined
        ? []
        : [
            {
              ruleId: 'user-exception-tag-set',
              severity: u.selfGranted ? 'critical' : 'high',
              message: `RAM user ${u.userName} now carries the exception tag ${s.tagKey} = ${u.exceptionTag}${u.selfGranted ? ', set by the user on itself' : ''}${u.verdict ? `: ${u.verdict}` : ''}`,
              evidence: {
                user: u.userName,
                tagKey: s.tagKey,
                value: u.exceptionTag,
                selfGranted: u.selfGranted,
                verdict: u.verdict ?? null,
              },
            },
          ],
    ),
};
