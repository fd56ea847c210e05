import { existsSync, readFileSync } from 'node:fs';
import type { AuditKey } from '../../shared/audit/record';
import { AuditStore } from '../../shared/audit/store';
import { CallLog } from '../../shared/clients/calllog';
import { kmsSecrets } from '../../shared/clients/kms';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { DEFAULT_AUDIT_PREFIX, type OssguardConfig, parseConfig, SECRET_ENV } from '../../shared/config';
import { auditKeyOf, parseAuditKeyId } from '../../shared/config/secrets';
import { warnIfRootAccount } from '../caller-identity';
import { type CloudTarget, resolveTarget, type TargetOptions } from '../target';

export interface AuditLocationOptions extends TargetOptions {
  auditBucket?: string;
  config?: string;
}

export interface AuditLocation {
  target: CloudTarget;
  factory: OssClientFactory;
  region: string;
  store: AuditStore;
  config?: OssguardConfig;
}

/**
 * Where the audit records are: `--audit-bucket`, else `audit.bucket` of the config (`--config`, the local
 * cloud's with `--local`, else ./ossguard.config.yaml when present), else the local cloud's audit bucket.
 * Prefix and region come from the same config.
 */
export async function resolveAuditLocation(options: AuditLocationOptions): Promise<AuditLocation> {
  const target = await resolveTarget(options);
  await warnIfRootAccount(target, options);
  const config = readConfig(
    options.config ?? target.local?.configFile ?? 'ossguard.config.yaml',
    !!options.config,
  );
  const bucket = options.auditBucket ?? config?.audit.bucket ?? target.local?.auditBucket;
  if (!bucket) {
    throw new Error('no audit bucket: pass --audit-bucket <name> or --config <file> with audit.bucket');
  }
  const region = config?.audit.region ?? target.region;
  const factory = new OssClientFactory({
    credentials: target.credentials,
    ...(target.endpoints.oss ? { endpoint: target.endpoints.oss } : {}),
  });
  const gateway = new OssGateway(factory, region, new CallLog());
  return {
    target,
    factory,
    region,
    store: new AuditStore(gateway, bucket, config?.audit.prefix ?? DEFAULT_AUDIT_PREFIX),
    ...(config ? { config } : {}),
  };
}

/**
 * The audit key to check MACs with, as the functions get it: the KMS secret the config's `secrets.auditKey`
 * names (read with the caller's credentials, who needs kms:GetSecretValue on it), else OSSGUARD_AUDIT_KEY
 * (with --local, the local functions' own). Undefined: no key anywhere, MACs are not checked.
 */
export async function resolveAuditKey(
  location: Pick<AuditLocation, 'target' | 'config'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AuditKey | undefined> {
  const kms = auditKeySecret(location);
  if (kms) {
    const current = await kms.client.getSecretVersion(kms.secretName);
    return auditKeyOf(current.value, kms.secretName, current.versionId || undefined);
  }
  const { target } = location;
  return auditKeyOf(env[SECRET_ENV.auditKey] ?? target.local?.functionEnv?.[SECRET_ENV.auditKey], undefined);
}

/**
 * The earlier versions of a KMS-held audit key, for MACs made before it was rotated: the version a key id
 * names (`kms:<name>@<VersionId>`, read by VersionId, F-KMS-GETSECRETVALUE), or for a record made before
 * versions were named (`kms:<name>`), the current version and the one before it (ACSPrevious,
 * F-KMS-PUTSECRETVALUE). Undefined when the key is not in KMS.
 */
export function olderAuditKeys(
  location: Pick<AuditLocation, 'target' | 'config'>,
): ((macKeyId: string) => Promise<AuditKey[]>) | undefined {
  const kms = auditKeySecret(location);
  if (!kms) return undefined;
  const { client, secretName } = kms;
  return async (macKeyId) => {
    const named = parseAuditKeyId(macKeyId);
    if (named?.secretName !== secretName) return [];
    const reads = named.versionId
      ? [client.getSecretVersion(secretName, { versionId: named.versionId })]
      : [client.getSecretVersion(secretName), client.getSecretVersion(secretName, { stage: 'ACSPrevious' })];
    const read = await Promise.allSettled(reads);
    return read.flatMap((r) =>
      r.status === 'fulfilled'
        ? (auditKeyOf(r.value.value, secretName, named.versionId && r.value.versionId) ?? [])
        : [],
    );
  };
}

/** The KMS secret holding the audit key, read with the caller's credentials (kms:GetSecretValue on it). */
function auditKeySecret({ target, config }: Pick<AuditLocation, 'target' | 'config'>) {
  const secretName = config?.secrets?.auditKey;
  if (!secretName) return undefined;
  const client = kmsSecrets(
    target.credentials,
    config?.secrets?.region ?? target.region,
    target.endpoints.kms,
  );
  return { client, secretName };
}

function readConfig(path: string, required: boolean): OssguardConfig | undefined {
  if (!existsSync(path)) {
    if (required) throw new Error(`config file ${path} does not exist`);
    return undefined;
  }
  return parseConfig(readFileSync(path, 'utf8'));
}
