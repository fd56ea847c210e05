import { ROLE_NAME } from './names';

/** What a role's trust policy makes of it: whether it names its one expected principal alone, and why not. */
export interface TrustVerdict {
  ok: boolean;
  detail: string;
}

/**
 * Whether `principals` (trustedPrincipals, shared/deployment/role-policy.ts) are `expected` alone, compared
 * exactly as bootstrap writes them: whether RAM reads another case of a name as the same role is unverified
 * (F-RAM-ROLE-NAME-CASE), and ROLE_NAME is already the lower case fc3 gives FC. Any other principal could
 * assume the role, and a session of ossguard's roles is taken for ossguard's own (shared/pipeline/dedupe.ts).
 */
function trustVerdict(principals: readonly string[], expected: string, label: string): TrustVerdict {
  const others = principals.filter((p) => p !== expected);
  if (others.length > 0)
    return {
      ok: false,
      detail: `its trust policy also names ${others.join(', ')}, who could act there as ossguard, their changes taken for its own`,
    };
  return principals.length > 0
    ? { ok: true, detail: `trusted by ${label} alone` }
    : { ok: false, detail: `its trust policy does not name ${label}` };
}

/**
 * Whether a member role's trust names the function role of the deploying account and nothing else. Without that
 * account's id no principal can be told to be the function role: a role of its name in any account would pass.
 */
export function memberTrustVerdict(
  principals: readonly string[],
  accountId: string | undefined,
): TrustVerdict {
  if (accountId === undefined)
    return {
      ok: false,
      detail: `account id unknown (set AccountID): a role named ${ROLE_NAME} in any account would pass for the function role`,
    };
  return trustVerdict(principals, `acs:ram::${accountId}:role/${ROLE_NAME}`, 'the function role');
}

/** The service FC assumes the function role as (deploy/trust-policy.json), as trustedPrincipals spells it. */
export const FC_TRUST_PRINCIPAL = 'Service:fc.aliyuncs.com';

/** Whether the function role's trust names Function Compute alone (deploy/trust-policy.json, F-STS-TRUST-POLICY). */
export const functionTrustVerdict = (principals: readonly string[]): TrustVerdict =>
  trustVerdict(principals, FC_TRUST_PRINCIPAL, 'Function Compute');
