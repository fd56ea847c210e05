import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OSS from 'ali-oss';
import { type ConfigPatch, LocalCloud } from '../../local/cloud';
import type { AuditRecord } from '../../shared/audit/record';

/** Starts the local cloud for an end-to-end test; the functions run from `dist/` (npm test builds first). */
export async function startCloud(
  config: ConfigPatch = {},
  options: { sYaml?: string } = {},
): Promise<LocalCloud> {
  return LocalCloud.start({
    config,
    stateDir: mkdtempSync(join(tmpdir(), 'ossguard-e2e-')),
    retryDelayMs: 50,
    ...(options.sYaml ? { sYaml: options.sYaml } : {}),
  });
}

/** A RAM user's ali-oss client: the actor who makes things public in these tests. */
export function userClient(cloud: LocalCloud, name: string, bucket?: string): OSS {
  const { key } = cloud.identities.userWithKey(name);
  return cloud.ossClient(key, bucket);
}

export async function auditRecords(cloud: LocalCloud): Promise<AuditRecord[]> {
  const client = cloud.adminClient(cloud.auditBucket);
  const listed = await client.listV2({ prefix: 'ossguard/audit/', 'max-keys': '1000' }, {});
  const records = await Promise.all(
    (listed.objects ?? []).map(
      async (o) => JSON.parse((await client.get(o.name)).content.toString()) as AuditRecord,
    ),
  );
  return records.sort((a, b) => a.decidedAt.localeCompare(b.decidedAt));
}

/** Audit records about changes made by people (not ossguard's own reverts, not setup). */
export async function decisionsFor(
  cloud: LocalCloud,
  eventName: string,
  bucket: string,
): Promise<AuditRecord[]> {
  return (await auditRecords(cloud)).filter(
    (r) => r.eventName === eventName && r.resource.bucket === bucket && r.actor.type !== 'assumed-role',
  );
}
