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
 * Fills in the audit bucket and the prefixes the functions write there (`${audit.bucket}`, `${audit.prefix}`
 * from the config; `${snapshot.prefix}`, `${sweep.prefix}` and `${pipeline.prefix}` from the code that writes them) in the text of
 * deploy/role-policy.json, then checks the result parses as a RAM policy.
 */
export function renderRolePolicy(template: string, audit: AuditLocation): string {
  const values: Record<string, string> = {
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
  parseRamPolicy(rendered);
  return rendered;
}
