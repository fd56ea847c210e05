/**
 * One of the roles ossguard acts as, after a call that changed it, as RAM holds it now (GetRole, F-RAM-GETROLE):
 * the member role in an allowed member, or the function role in the deploying account. The record's copy of the
 * trust policy is never trusted.
 */
export interface RoleTrustSubject {
  /** The role's name as the call spelled it (GetRole reads it so). */
  roleName: string;
  /** `member`: the role ossguard assumes in a member; `function`: the role FC runs ossguard as. */
  role: 'member' | 'function';
  /** The account the role is in. */
  accountId: string;
  /** Who its trust policy lets assume it now (trustedPrincipals); absent when the role no longer exists. */
  principals?: readonly string[];
  /**
   * The deploying account, whose function role alone a member role should trust; undefined when FC did not say
   * (memberTrustVerdict then passes no principal).
   */
  deployAccountId?: string;
}
