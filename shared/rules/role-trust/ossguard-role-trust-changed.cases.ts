import type { RuleCases } from '../types';
import { ossguardRoleTrustChanged } from './ossguard-role-trust-changed';
import type { RoleTrustSubject } from './subject';

const HOME = '1234567890123456';
const MEMBER = '2234567890123456';
const FUNCTION_ROLE = `acs:ram::${HOME}:role/ossguard-fn`;

const member = (principals?: readonly string[]): RoleTrustSubject => ({
  roleName: 'ossguard-member',
  role: 'member',
  accountId: MEMBER,
  deployAccountId: HOME,
  ...(principals ? { principals } : {}),
});
const fn = (principals: readonly string[]): RoleTrustSubject => ({
  roleName: 'ossguard-fn',
  role: 'function',
  accountId: HOME,
  principals,
  deployAccountId: HOME,
});

export const cases: RuleCases<RoleTrustSubject> = {
  rule: ossguardRoleTrustChanged,
  fires: [
    {
      name: "a member's administrator made the member role trust them too",
      subject: member([FUNCTION_ROLE, `acs:ram::${MEMBER}:user/mallory`]),
    },
    {
      name: "the member role trusts the member's root account",
      subject: member([`acs:ram::${MEMBER}:root`]),
    },
    {
      name: 'the member role trusts an identity provider, whose users name their own sessions',
      subject: member([FUNCTION_ROLE, `Federated:acs:ram::${MEMBER}:oidc-provider/ci`]),
    },
    {
      name: 'the member role trusts a role of the function role’s name in another account',
      subject: member([`acs:ram::${MEMBER}:role/ossguard-fn`]),
    },
    {
      // Whether RAM reads another case of a role name as the same role is unverified (F-RAM-ROLE-NAME-CASE):
      // bootstrap writes the lower case, and anything else is told.
      name: 'the member role trusts the function role’s name spelled in another case',
      subject: member([FUNCTION_ROLE.toUpperCase()]),
    },
    { name: 'the member role trusts no one (ossguard cannot assume it)', subject: member([]) },
    { name: 'the member role was deleted', subject: member(undefined) },
    {
      name: 'the deploying account is unknown (a role of the function role’s name anywhere would pass)',
      subject: {
        roleName: 'ossguard-member',
        role: 'member',
        accountId: MEMBER,
        principals: [FUNCTION_ROLE],
      },
    },
    {
      name: 'the function role also trusts a RAM user',
      subject: fn(['Service:fc.aliyuncs.com', `acs:ram::${HOME}:user/mallory`]),
    },
    { name: 'the function role trusts another service', subject: fn(['Service:ecs.aliyuncs.com']) },
  ],
  silent: [
    {
      name: 'the member role trusts the function role alone (bootstrap’s)',
      subject: member([FUNCTION_ROLE]),
    },
    { name: 'the function role trusts Function Compute alone', subject: fn(['Service:fc.aliyuncs.com']) },
  ],
};
