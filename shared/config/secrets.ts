import type { AuditKey } from '../audit/record';
import type { KmsSecrets, SecretVersion } from '../clients/kms';
import type { Runtime } from './load';
import type { OssguardConfig } from './schema';

/** ossguard's own secrets: the config's `secrets` block names a KMS secret for each, else its env variable. */
export const SECRET_NAMES = ['dingtalkSecret', 'smtpPassword', 'auditKey'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** The KMS secret names the config sets, by what they hold. */
export function kmsSecretNames(config: OssguardConfig): Partial<Record<SecretName, string>> {
  const names: Partial<Record<SecretName, string>> = {};
  for (const name of SECRET_NAMES) {
    const secret = config.secrets?.[name];
    if (secret) names[name] = secret;
  }
  return names;
}

/**
 * The audit key from its value: identified by its KMS secret name and version (`kms:<name>@<VersionId>`, so
 * that a record made before the secret was rotated is verified with the version that made it), or `env` when
 * it came from the environment. Records made before versions were named carry `kms:<name>`.
 */
export const auditKeyOf = (
  value: string | undefined,
  secretName: string | undefined,
  versionId?: string,
): AuditKey | undefined =>
  value ? { id: auditKeyId(secretName, versionId), secret: Buffer.from(value, 'utf8') } : undefined;

const auditKeyId = (secretName: string | undefined, versionId: string | undefined): string =>
  secretName ? `kms:${secretName}${versionId ? `@${versionId}` : ''}` : 'env';

/** The secret name and version an audit key id names, for a KMS-held key (`auditKeyOf`). */
export function parseAuditKeyId(id: string): { secretName: string; versionId?: string } | undefined {
  const match = /^kms:(.+?)(?:@([^@]+))?$/.exec(id);
  if (!match?.[1]) return undefined;
  return { secretName: match[1], ...(match[2] ? { versionId: match[2] } : {}) };
}

/** The audit key the functions sign records with, from the runtime's secrets. */
export const runtimeAuditKey = (runtime: Runtime): AuditKey | undefined =>
  auditKeyOf(runtime.secrets.auditKey, runtime.config.secrets?.auditKey, runtime.secretVersions?.auditKey);

/** The audit key's version before the latest rotation (KMS's ACSPrevious), if the functions read one. */
export const previousRuntimeAuditKey = (runtime: Runtime): AuditKey | undefined =>
  auditKeyOf(
    runtime.previousAuditKey?.value,
    runtime.config.secrets?.auditKey,
    runtime.previousAuditKey?.versionId,
  );

/** How long a value read from KMS is used before it is read again: a rotated secret reaches every instance within it. */
export const SECRET_REFRESH_MS = 15 * 60_000;
/** After a failed refresh, how long the instance keeps the values it has before trying again. */
export const SECRET_RETRY_MS = 60_000;

/**
 * The KMS-held secrets of one instance: read at its first invocation (FC hands the role's STS credentials to
 * invocations, not to module load), kept for the instance's life and read again every SECRET_REFRESH_MS. A
 * failed refresh keeps the values already read (the secret did not stop being valid because KMS was slow)
 * and tries again after SECRET_RETRY_MS; only a failed first read fails the invocation.
 */
export class KmsSecretCache {
  private values: Partial<Record<SecretName, string>> | undefined;
  /** The VersionId of each value read (F-KMS-GETSECRETVALUE). */
  versions: Partial<Record<SecretName, string>> = {};
  /** The audit key's ACSPrevious version (F-KMS-PUTSECRETVALUE), when the secret was rotated. */
  previousAuditKey: SecretVersion | undefined;
  /** The audit key's ACSCurrent VersionId when KMS last refused the ACSPrevious read (`readPrevious`). */
  private absentPrevious: { current: string | undefined } | undefined;
  private nextRead = 0;
  private reading: Promise<Partial<Record<SecretName, string>>> | undefined;

  constructor(
    private readonly names: Partial<Record<SecretName, string>>,
    private readonly clock: () => number = Date.now,
  ) {}

  get configured(): boolean {
    return Object.keys(this.names).length > 0;
  }

  async get(
    kms: () => KmsSecrets,
    onStaleError?: (error: unknown) => void,
  ): Promise<Partial<Record<SecretName, string>>> {
    if (this.values && this.clock() < this.nextRead) return this.values;
    this.reading ??= this.read(kms()).finally(() => {
      this.reading = undefined;
    });
    try {
      return await this.reading;
    } catch (error) {
      if (!this.values) throw error;
      this.nextRead = this.clock() + SECRET_RETRY_MS;
      onStaleError?.(error);
      return this.values;
    }
  }

  private async read(kms: KmsSecrets): Promise<Partial<Record<SecretName, string>>> {
    const entries = await Promise.all(
      Object.entries(this.names).map(
        async ([name, secret]) => [name, await kms.getSecretVersion(secret)] as const,
      ),
    );
    this.values = Object.fromEntries(entries.map(([name, read]) => [name, read.value]));
    this.versions = Object.fromEntries(entries.map(([name, read]) => [name, read.versionId]));
    const audit = this.names.auditKey;
    const current = this.versions.auditKey;
    if (!audit) this.previousAuditKey = undefined;
    else if (this.absentPrevious?.current !== current)
      this.previousAuditKey = await this.readPrevious(kms, audit);
    this.nextRead = this.clock() + SECRET_REFRESH_MS;
    return this.values;
  }

  /**
   * A secret never rotated has no ACSPrevious: KMS refuses the read, and there is nothing to keep. ACSPrevious
   * appears only when a new version takes ACSCurrent (F-KMS-PUTSECRETVALUE), so a refusal is remembered until
   * ACSCurrent's VersionId changes. The not-found code is unverified (F-KMS-GETSECRETVALUE): any 4xx answer but
   * throttling counts as a refusal; a throttled, failed or unanswered read is tried again at the next refresh.
   */
  private async readPrevious(kms: KmsSecrets, audit: string): Promise<SecretVersion | undefined> {
    try {
      const previous = await kms.getSecretVersion(audit, { stage: 'ACSPrevious' });
      this.absentPrevious = undefined;
      return previous;
    } catch (error) {
      if (isRefusal(error)) this.absentPrevious = { current: this.versions.auditKey };
      return undefined;
    }
  }
}

function isRefusal(error: unknown): boolean {
  const { statusCode, code } = (error ?? {}) as { statusCode?: unknown; code?: unknown };
  return (
    typeof statusCode === 'number' &&
    statusCode >= 400 &&
    statusCode < 500 &&
    statusCode !== 429 &&
    !(typeof code === 'string' && code.startsWith('Throttling'))
  );
}
