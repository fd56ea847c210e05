import { expandAction, isBroadWildcard } from '../../policy/actions';
import { accountOf, isAnyone, list, rewrite, unique } from '../../policy/statement';
import { policyRule } from './rule';

/** Calls that decide who may read: a grantee who can make them can make the data public. */
const ACCESS_WRITES: ReadonlySet<string> = new Set([
  'oss:PutObjectAcl',
  'oss:PutObjectVersionAcl',
  'oss:PutBucketAcl',
  'oss:PutBucketPolicy',
  'oss:DeleteBucketPolicy',
]);

/** Broad wildcards (oss:*, oss:Put*) are wildcard-action's: one finding per cause. */
const accessWrites = (action: string): string[] =>
  isBroadWildcard(action) ? [] : expandAction(action).filter((a) => ACCESS_WRITES.has(a));

export const aclWriteGranted = policyRule({
  id: 'acl-write-granted',
  order: 35,
  title: 'Bucket policy lets an outsider change who has access',
  rationale:
    'Whoever may set object or bucket ACLs, or rewrite or delete the bucket policy, can make the data ' +
    'public or grant it to anyone; only identities of the bucket owner should hold these rights.',
  docUrl: 'https://www.alibabacloud.com/help/en/oss/user-guide/oss-bucket-policy/',
  severity: 'high',
  firesWhen:
    'anyone, or a principal outside the owner account, may set ACLs or write or delete the bucket policy',
  check: (s, { ctx }) => {
    if (s.effect !== 'Allow') return undefined;
    const outside = s.principals.filter(
      (p) => isAnyone(p) || !(accountOf(p) === ctx.ownerAccountId || (ctx.knownPrincipals ?? []).includes(p)),
    );
    const granted = unique(s.actions.flatMap(accessWrites));
    if (outside.length === 0 || granted.length === 0) return undefined;
    const kept = unique(
      s.actions.flatMap((a) => {
        const writes = accessWrites(a);
        return writes.length === 0 ? [a] : expandAction(a).filter((x) => !ACCESS_WRITES.has(x));
      }),
    );
    const who = outside.some(isAnyone) ? 'anyone' : `${list(outside)}, outside the owner account,`;
    return {
      severity: 'high',
      message: `${who} may call ${list(granted)}: the grantee can make the data public or grant it to others`,
      fix:
        (kept.length > 0 ? `drop them: ${rewrite(s, { Action: kept })}` : 'remove this statement') +
        "; leave ACL and policy changes to the owner account's own RAM identities",
    };
  },
});
