import type { ChangeRecord } from './types';

/**
 * Which state a change touches, as one string: changes with one identity are judged on one live state, so their
 * remediation marks share a folder (shared/pipeline/remediated.ts `resourceDir`) and one invocation handles
 * them newest first (shared/pipeline/dedupe.ts `inResourceOrder`). A bucket or object is named by its account,
 * region, bucket and key (an OSS change that names no bucket, such as the account's Block Public Access, is
 * account-wide: no region); an access key by its id alone, since some of its records name its user and others
 * (a user's own key) do not; an identity policy, group or role by the names the call gives beside its user, so
 * that changes of two policies of one account are never taken for one.
 */
export function resourceIdentity(change: ChangeRecord): string {
  const { bucket, objectKey, ramUser, accessKeyId } = change.resources;
  const { PolicyType, PolicyName, GroupName, RoleName } = change.requestParameters;
  return JSON.stringify([
    change.accountId ?? '',
    change.service === 'Oss' && !bucket ? '' : change.region,
    bucket ?? '',
    objectKey ?? '',
    accessKeyId ? '' : (ramUser ?? ''),
    accessKeyId ?? '',
    PolicyType ?? '',
    PolicyName ?? '',
    GroupName ?? '',
    RoleName ?? '',
  ]);
}
