import type { Rule, RuleCases } from '../types';
import type { IdentityPolicySubject } from './subject';

type Kind = NonNullable<IdentityPolicySubject['attachedTo']>['kind'];

/** Who holds the policy in each case: the name plays no part in a rule judging a system policy by its name. */
const HOLDERS: Record<Kind, string> = { User: 'alice', Group: 'ops', Role: 'app' };

const attached = (
  policyName: string,
  kind: Kind,
  policyType: IdentityPolicySubject['policyType'] = 'System',
): IdentityPolicySubject => ({ policyName, policyType, attachedTo: { kind, name: HOLDERS[kind] } });

/**
 * The table of a rule judging one system policy by its name: it fires when the policy is attached to a user, a
 * group or a role, and stays silent on a narrower system policy attached to a user and on a custom policy that
 * only shares the name (identity-policy-broad-oss judges that one by its document).
 */
export const systemPolicyCases = (
  rule: Rule<IdentityPolicySubject>,
  table: {
    policy: string;
    narrower: string;
    /** What a case's name adds after the holder's kind (or after "a custom policy of the same name"). */
    notes?: Partial<Record<Kind | 'Custom', string>>;
  },
): RuleCases<IdentityPolicySubject> => {
  const note = (of: Kind | 'Custom') => (table.notes?.[of] ? ` ${table.notes[of]}` : '');
  return {
    rule,
    fires: (['User', 'Group', 'Role'] as const).map((kind) => ({
      name: `${table.policy} attached to a ${kind.toLowerCase()}${note(kind)}`,
      subject: attached(table.policy, kind),
    })),
    silent: [
      { name: `${table.narrower} attached to a user`, subject: attached(table.narrower, 'User') },
      {
        name: `a custom policy of the same name${note('Custom')}`,
        subject: attached(table.policy, 'User', 'Custom'),
      },
    ],
  };
};
