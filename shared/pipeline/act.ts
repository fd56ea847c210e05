import { RepairConflictError, writeBucketPolicy } from '../guards/policy-repair';
import { keepSnapshot } from '../guards/policy-snapshots';
import { principalOf } from '../rules/identity-policy/subject';
import type { ChangeScope, CloudAction, Decision } from './types';

/**
 * Carries out what `plan` decided: the fix's writes when the decision is `remediated`, then the bookkeeping
 * writes. It decides nothing; the intent record that must precede a revert is written before it is called.
 * What a write found already done is added to the reason, so that the record says what ossguard did.
 */
export async function act(
  decision: Decision,
  fix: { actions: readonly CloudAction[]; after: Decision['after'] } | undefined,
  bookkeeping: readonly CloudAction[],
  scope: ChangeScope,
): Promise<Decision> {
  const found: string[] = [];
  for (const action of [...(fix?.actions ?? []), ...bookkeeping]) {
    if (action.kind !== 'detach-policy') await perform(action, scope);
    else if ((await detach(action, scope)) === 'already-detached')
      found.push(
        `${action.policyName} was detached from ${principalOf(action.principal)} already when ossguard's call reached RAM`,
      );
  }
  const reason = found.length > 0 ? `${decision.reason} (${found.join('; ')})` : decision.reason;
  return { ...decision, reason, ...(fix?.after ? { after: fix.after } : {}) };
}

function requireRam(ram: ChangeScope['ram']): NonNullable<ChangeScope['ram']> {
  if (!ram)
    throw new Error('this guard was built without RAM clients: pass createRamApi to createFunctionHandler');
  return ram;
}

/**
 * Sets a custom policy's default version back, but only over `replaces`, the default version that was judged.
 * RAM has no conditional write, so the default is re-read right before writing: a default changed since (the
 * owner's repair, or a newer version judged on its own event) stands, and the refusal is alerted (#20 item 2).
 */
async function setDefaultVersionOver(
  ram: NonNullable<ChangeScope['ram']>,
  action: Extract<CloudAction, { kind: 'set-default-policy-version' }>,
): Promise<void> {
  const live = await ram.defaultVersionId(action.policyName);
  if (live === action.versionId) return;
  if (live !== action.replaces)
    throw new RepairConflictError(
      `the default version of policy ${action.policyName} is ${live ?? 'gone'}, not the ${action.replaces} judged; ossguard did not write, and the newer default stands`,
    );
  await ram.setDefaultPolicyVersion(action.policyName, action.versionId);
}

const detach = (action: Extract<CloudAction, { kind: 'detach-policy' }>, { ram }: ChangeScope) =>
  requireRam(ram).detachPolicy(action.principal, action.policyType, action.policyName);

async function perform(
  action: Exclude<CloudAction, { kind: 'detach-policy' }>,
  { oss, audit, ram, config, auditKey }: ChangeScope,
): Promise<void> {
  switch (action.kind) {
    case 'put-bucket-acl':
      return oss.putBucketAcl(action.bucket, action.acl);
    case 'put-object-acl':
      return oss.putObjectAcl(action.bucket, action.key, action.acl);
    case 'put-bucket-public-access-block':
      return oss.putBucketPublicAccessBlock(action.bucket, true);
    case 'put-account-public-access-block':
      return oss.putAccountPublicAccessBlock(true);
    case 'put-bucket-policy':
      return writeBucketPolicy(oss, action.bucket, action.policy, action.replaces);
    case 'delete-bucket-policy':
      return writeBucketPolicy(oss, action.bucket, null, action.replaces);
    case 'disable-access-key':
      return requireRam(ram).disableAccessKey(action.userName, action.accessKeyId);
    case 'set-default-policy-version':
      return setDefaultVersionOver(requireRam(ram), action);
    case 'untag-user':
      return requireRam(ram).untagUser(action.userPrincipalName, action.tagKey);
    case 'keep-policy-snapshot':
      if (!audit)
        throw new Error('oss-policy-guard keeps policy snapshots in the audit bucket: pass scope.audit');
      await keepSnapshot(audit, config.audit.bucket, action.snapshot, auditKey);
      return;
  }
}
