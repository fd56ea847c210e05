import type { KeyOwner } from '../clients/ram';
import { EventParseError } from '../errors';
import { USER_TAG_EVENTS } from '../events/names';
import type { ChangeRecord } from '../events/types';
import { evaluateRules } from '../pipeline/evaluate';
import type { CloudAction, Evaluation, Guard, Observation } from '../pipeline/types';
import { evaluateExceptions } from '../rule-exceptions';
import { type UserTagSubject, userTagRules } from '../rules';

interface UserTagState {
  /** The users the call named, as IMS shows them now; those since deleted are left out. */
  users: KeyOwner[];
}

/** Who a tagging call names: by logon name (or bare name: F-IMS-USER-TAGS leaves the form open) or by id. */
function namedUsers(
  change: ChangeRecord,
): Array<{ userPrincipalName: string } | { userName: string } | { userId: string }> {
  const params = Object.entries(change.requestParameters);
  const listed = (name: string) => params.filter(([key]) => key.startsWith(`${name}.`)).map(([, v]) => v);
  return [
    ...listed('ResourcePrincipalName').map((value) =>
      value.includes('@') ? { userPrincipalName: value } : { userName: value },
    ),
    ...listed('ResourceId').map((userId) => ({ userId })),
  ];
}

/** What the exception model makes of a tag value now, for the alert (shared/rule-exceptions.ts). */
function verdictOf(
  value: string,
  settings: Parameters<typeof evaluateExceptions>[3],
  now: Date,
  accountId: string | undefined,
): string {
  const outcome = evaluateExceptions('', [], { [settings.tagKey]: value }, settings, now, accountId);
  if (outcome.applied)
    return `waives ${outcome.applied.rules?.join(', ')} for its keys until ${outcome.applied.until}`;
  return `ignored by ossguard (${outcome.ignored.map((i) => i.why).join('; ')})`;
}

/**
 * user-tag-guard: tagging RAM users (IMS TagResources / UntagResources, F-IMS-USER-TAGS), as a user's exception
 * tag waives key rules for its keys (#20 item 4). The users' tags are read again from IMS (GetUser), never taken
 * from the record; a tag a user set on itself is removed in enforce mode (user-exception-tag-set).
 */
export const userTagGuard: Guard<UserTagState> = {
  name: 'user-tag-guard',
  events: USER_TAG_EVENTS,

  async observe(change, scope): Promise<Observation<UserTagState>> {
    if (!scope.ram) throw new Error('user-tag-guard was built without RAM clients: pass createRamApi');
    const ram = scope.ram;
    // RAM tags roles and policies with calls of the same names; only users' tags grant exceptions.
    if (change.requestParameters.ResourceType?.toLowerCase() !== 'user')
      return { kind: 'gone', reason: 'the call tags no RAM user' };
    const named = namedUsers(change);
    if (named.length === 0)
      throw new EventParseError(`${change.eventName} record names no user`, { eventId: change.eventId });
    const users = (await Promise.all(named.map((by) => ram.imsUser(by)))).filter(
      (u): u is KeyOwner => u !== undefined,
    );
    if (users.length === 0) return { kind: 'gone', reason: 'the tagged users no longer exist' };
    return { kind: 'present', state: { users } };
  },

  evaluate(change, { users }, { config, now }): Evaluation {
    const { tagKey } = config.exceptions;
    const actor = change.actor;
    const subject: UserTagSubject = {
      tagKey,
      users: users.map((u) => {
        const value = u.tags[tagKey];
        return {
          userName: u.userName,
          selfGranted: actor.type === 'ram-user' && actor.userName === u.userName,
          ...(value === undefined
            ? {}
            : { exceptionTag: value, verdict: verdictOf(value, config.exceptions, now, change.accountId) }),
        };
      }),
    };
    const found = evaluateRules(userTagRules, subject, config);
    const selfTagged = users.filter(
      (u, i) => subject.users[i]?.selfGranted && u.tags[tagKey] !== undefined && u.userPrincipalName,
    );
    const actions: CloudAction[] = selfTagged.map((u) => ({
      kind: 'untag-user',
      userPrincipalName: u.userPrincipalName ?? '',
      tagKey,
    }));
    const fix =
      actions.length > 0
        ? {
            description: `remove the exception tag ${tagKey} from ${selfTagged.map((u) => u.userName).join(', ')}, set by the user on itself`,
            actions,
            after: { exceptionTag: 'removed' },
          }
        : undefined;
    return {
      // A tag someone else set is the exception model at work: alerted, never removed.
      findings: fix ? found : found.map((f) => ({ ...f, mode: 'alert' as const })),
      // No exception waives the alert about exceptions.
      exceptions: { ignored: [] },
      before: {
        users: users.map((u) => u.userName).join(','),
        exceptionTags: users.filter((u) => u.tags[tagKey] !== undefined).length,
      },
      compliantReason: `no tagged user carries the exception tag ${tagKey}`,
      ...(fix ? { fix } : {}),
    };
  },
};
