/**
 * An identity policy as RAM holds it now: a custom policy's default version, re-read with GetPolicyVersion (the
 * record's copy is never trusted), or a system policy by name; and, for an attach, who it was attached to.
 */
export interface IdentityPolicySubject {
  policyName: string;
  policyType: 'System' | 'Custom';
  /** The default version's document (JSON text); absent for a system policy, which is judged by name. */
  document?: string;
  versionId?: string;
  attachedTo?: { kind: 'User' | 'Group' | 'Role'; name: string };
  /** AddUserToGroup: the user who joined `attachedTo`, the group, and now holds its policies through it. */
  member?: string;
  /** The attach no longer holds (RAM lists no such holder): it granted while it lasted, so it is still judged. */
  detachedSince?: true;
}

const KIND_NAMES = { User: 'RAM user', Group: 'RAM user group', Role: 'RAM role' } as const;

/** `RAM user alice`, `RAM user group ops`, `RAM role app`. */
export const principalOf = (p: NonNullable<IdentityPolicySubject['attachedTo']>): string =>
  `${KIND_NAMES[p.kind]} ${p.name}`;

/**
 * Who holds the policy, for a rule's message: `RAM user alice`, or `RAM user group ops, which RAM user bob
 * joined`, and `(detached since)` when RAM no longer lists the holder.
 */
export const holderOf = (
  attachedTo: NonNullable<IdentityPolicySubject['attachedTo']>,
  { member, detachedSince }: IdentityPolicySubject,
): string =>
  `${principalOf(attachedTo)}${member ? `, which RAM user ${member} joined` : ''}${detachedSince ? ' (detached since)' : ''}`;

export const IDENTITY_POLICY_RULE_BASE = { guard: 'identity-policy-guard', defaultMode: 'alert' } as const;
