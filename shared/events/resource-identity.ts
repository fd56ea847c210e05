import type { ChangeRecord } from './types';

/**
 * Which state a change touches, as one string: changes with one identity are judged on one live state, so their
 * remediation marks share a folder (shared/pipeline/remediated.ts `resourceDir`) and one invocation handles
 * them newest first (shared/pipeline/dedupe.ts `inResourceOrder`). `state` tells apart the states a guard judges
 * on one resource (`Guard.stateOf`: a bucket's ACL and its Block Public Access).
 *
 * - A bucket or object: its account, region, bucket and key. An OSS change that names no bucket is account-wide
 *   (the account's Block Public Access, F-OSS-BPA): no region.
 * - RAM and IMS are global (F-RAM-GLOBAL-ENDPOINT) and the region their records name is where the trail stores
 *   global events (F-ACTIONTRAIL-GLOBAL-REGION), not where the resource is: no region.
 * - An access key: its id alone, since a call on one may name its user or not (UserName is optional,
 *   F-RAM-UPDATEACCESSKEY; an empty UserPrincipalName is the caller's own key, F-IMS-UPDATEACCESSKEY).
 * - An identity policy, group or role: the names the call gives (F-RAM-GROUPS) beside its user, spelled as given.
 *   Whether RAM tells names apart by case is unverified (F-RAM-NAME-CASE); spelled as given, two spellings of one
 *   policy are at worst two identities, judged at once as before, never one identity whose marks would tie a
 *   repair of one policy to a change of another.
 */
export function resourceIdentity(change: ChangeRecord, state = ''): string {
  const { bucket, objectKey, ramUser, accessKeyId } = change.resources;
  const { PolicyType, PolicyName, GroupName, RoleName } = change.requestParameters;
  const global =
    change.service === 'Ram' || change.service === 'Ims' || (change.service === 'Oss' && !bucket);
  return JSON.stringify([
    change.accountId ?? '',
    state,
    global ? '' : change.region,
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
