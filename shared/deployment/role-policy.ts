import { SNAPSHOT_PREFIX } from '../guards/policy-snapshots';
import { PIPELINE_PREFIX } from '../pipeline/remediated';
import { SWEEP_PREFIX } from '../sweep/progress-checkpoint';
import { parseRamPolicy } from './ram-policy';

/** Where the audit records go: the policy's write path is rendered from the config's `audit` block. */
export interface AuditLocation {
  bucket: string;
  prefix: string;
}

/**
 * Fills in the account id (`${account.id}`: every resource ARN names it, so a bucket of the same name in
 * another account, the audit bucket's above all, is never the role's to write), the audit bucket and the
 * prefixes the functions write there (`${audit.bucket}`, `${audit.prefix}` from the config;
 * `${snapshot.prefix}`, `${sweep.prefix}` and `${pipeline.prefix}` from the code that writes them) in the text
 * of deploy/role-policy.json, then checks the result parses as a RAM policy.
 */
export function renderRolePolicy(
  template: string,
  audit: AuditLocation,
  accountId: string,
  /** KMS secret names the config sets (shared/config/secrets.ts): readable by the role, and nothing else in KMS. */
  secretNames: readonly string[] = [],
): string {
  if (!/^\d{5,20}$/.test(accountId)) throw new Error(`role policy: ${accountId} is not an account id`);
  const values: Record<string, string> = {
    'account.id': accountId,
    'audit.bucket': audit.bucket,
    'audit.prefix': audit.prefix,
    'snapshot.prefix': SNAPSHOT_PREFIX,
    'sweep.prefix': SWEEP_PREFIX,
    'pipeline.prefix': PIPELINE_PREFIX,
  };
  const rendered = template.replace(/\$\{([a-z.]+)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`role policy: unknown placeholder ${whole}`);
    return value;
  });
  const withSecrets = secretNames.length > 0 ? grantSecrets(rendered, secretNames, accountId) : rendered;
  parseRamPolicy(withSecrets);
  return withSecrets;
}

/** Adds kms:GetSecretValue on exactly the named secrets, in any region of the account (F-KMS-GETSECRETVALUE). */
function grantSecrets(policy: string, names: readonly string[], accountId: string): string {
  const document = JSON.parse(policy) as { Statement: unknown[] };
  document.Statement.push({
    Effect: 'Allow',
    Action: ['kms:GetSecretValue'],
    Resource: names.map((name) => `acs:kms:*:${accountId}:secret/${name}`),
  });
  return JSON.stringify(document, null, 2);
}

/** Resource ARNs of a role policy that do not name the account (`acs:<service>:<region>:<account>:…`). */
export function unpinnedResources(policyDocument: string, accountId: string): string[] {
  return (
    parseRamPolicy(policyDocument)
      .flatMap((statement) => statement.resources)
      // `*`: Security Center's leak calls take no resource (F-SAS-LEAK-LIST), so no account to name.
      .filter((resource) => resource !== '*' && resource.split(':')[3] !== accountId)
  );
}
