import { AcsError } from '../acs/errors';
import { type PopCall, PopEmulator, type PopEmulatorOptions, type PopHandler } from '../acs/server';
import type { Caller, IdentityStore } from '../identity';

export interface KmsEmulatorOptions extends PopEmulatorOptions {
  identities: IdentityStore;
  region: string;
  /**
   * RAM authorisation after authentication (`kms:<Action>` on the secret's ARN): false answers Forbidden.RAM.
   * Without it every caller may do everything.
   */
  authorize?: (caller: Caller, action: string, resource: string) => boolean;
}

const KMS_VERSION = '2016-01-20';

/** KMS errors the emulator answers; the codes and statuses are UNVERIFIED (F-KMS-GETSECRETVALUE). */
const KMS_ERRORS = {
  notFound: {
    status: 404,
    code: 'Forbidden.ResourceNotFound',
    message: 'The specified secret is not found.',
  },
  exists: { status: 400, code: 'Rejected.ResourceExist', message: 'The specified secret already exists.' },
  forbidden: {
    status: 403,
    code: 'Forbidden.RAM',
    message: 'User not authorized to operate on the specified resource.',
  },
  missing: { status: 400, code: 'MissingParameter', message: 'A required parameter is missing.' },
  /** A version id that exists with another value (F-KMS-PUTSECRETVALUE: rejected); the code is UNVERIFIED. */
  versionExists: {
    status: 400,
    code: 'Rejected.ResourceExist',
    message: 'The specified version already exists with another value.',
  },
} as const;

interface StoredVersion {
  data: string;
  dataType: string;
  versionId: string;
  createTime: string;
  stages: string[];
}

/** A secret's versions, oldest first. */
interface StoredSecret {
  versions: StoredVersion[];
}

/** Versions a generic secret keeps; beyond it the earliest is deleted (F-KMS-PUTSECRETVALUE). */
const MAX_VERSIONS = 10;
const CURRENT = 'ACSCurrent';
const PREVIOUS = 'ACSPrevious';

/**
 * KMS Secrets Manager's GetSecretValue, CreateSecret and PutSecretValue (F-KMS-GETSECRETVALUE,
 * F-KMS-CREATESECRET, F-KMS-PUTSECRETVALUE), signed requests only (ACS3, verified by PopEmulator like the RAM and
 * ActionTrail emulators), answering the documented response fields. Generic secrets only, rotated by hand
 * (PutSecretValue); no KMS instance.
 */
export class KmsEmulator extends PopEmulator {
  private readonly secrets = new Map<string, StoredSecret>();

  constructor(private readonly options: KmsEmulatorOptions) {
    super(
      { versions: [KMS_VERSION], product: () => 'Kms', hostId: () => `kms.${options.region}.aliyuncs.com` },
      options,
    );
  }

  protected route(_version: string, action: string): PopHandler | undefined {
    if (action === 'GetSecretValue') return (call) => this.getSecretValue(call);
    if (action === 'CreateSecret') return (call) => this.createSecret(call);
    if (action === 'PutSecretValue') return (call) => this.putSecretValue(call);
    return undefined;
  }

  /** Setup, not a call: a secret as an administrator would have created it. */
  putSecret(name: string, data: string, versionId = 'v1', dataType = 'text'): void {
    this.secrets.set(name, { versions: [version(data, versionId, dataType, [CURRENT])] });
  }

  /** Whether a secret of that name exists (tests check bootstrap created it). */
  has(name: string): boolean {
    return this.secrets.has(name);
  }

  private arn(name: string): string {
    return `acs:kms:${this.options.region}:${this.options.identities.accountId}:secret/${name}`;
  }

  private authorize(call: PopCall, name: string): void {
    const action = `kms:${call.action}`;
    if (this.options.authorize && !this.options.authorize(call.caller, action, this.arn(name)))
      throw new AcsError(KMS_ERRORS.forbidden, `Resource: ${this.arn(name)} Action: ${action}`);
  }

  private nameOf(call: PopCall): string {
    const name = call.params.SecretName;
    if (!name) throw new AcsError(KMS_ERRORS.missing, 'SecretName');
    // The ARN form (F-KMS-GETSECRETVALUE names it for another account's secret) is accepted for this
    // account's own; another account's ARN is an unknown name here (unverified what KMS answers).
    const prefix = `${this.arn('')}`;
    return name.startsWith(prefix) ? name.slice(prefix.length) : name;
  }

  /** The version a VersionId names, else the one carrying VersionStage (ACSCurrent by default). */
  private getSecretValue(call: PopCall): Record<string, unknown> {
    const name = this.nameOf(call);
    this.authorize(call, name);
    const secret = this.secrets.get(name);
    const { VersionId: versionId, VersionStage: stage = CURRENT } = call.params;
    const found = secret?.versions.find((v) =>
      versionId ? v.versionId === versionId : v.stages.includes(stage),
    );
    if (!found) throw new AcsError(KMS_ERRORS.notFound);
    return {
      SecretName: name,
      SecretType: 'Generic',
      SecretData: found.data,
      SecretDataType: found.dataType,
      VersionId: found.versionId,
      VersionStages: found.stages,
      CreateTime: found.createTime,
    };
  }

  private createSecret(call: PopCall): Record<string, unknown> {
    const name = this.nameOf(call);
    this.authorize(call, name);
    const { SecretData: data, VersionId: versionId } = call.params;
    if (data === undefined) throw new AcsError(KMS_ERRORS.missing, 'SecretData');
    if (!versionId) throw new AcsError(KMS_ERRORS.missing, 'VersionId');
    if (this.secrets.has(name)) throw new AcsError(KMS_ERRORS.exists);
    this.putSecret(name, data, versionId, call.params.SecretDataType ?? 'text');
    return { Arn: this.arn(name), SecretName: name, VersionId: versionId };
  }

  /**
   * A new version, labelled ACSCurrent unless VersionStages says otherwise; the version that held ACSCurrent
   * becomes ACSPrevious. A version id already stored is accepted again only with the same value.
   */
  private putSecretValue(call: PopCall): Record<string, unknown> {
    const name = this.nameOf(call);
    this.authorize(call, name);
    const { SecretData: data, VersionId: versionId } = call.params;
    if (data === undefined) throw new AcsError(KMS_ERRORS.missing, 'SecretData');
    if (!versionId) throw new AcsError(KMS_ERRORS.missing, 'VersionId');
    const secret = this.secrets.get(name);
    if (!secret) throw new AcsError(KMS_ERRORS.notFound);
    const existing = secret.versions.find((v) => v.versionId === versionId);
    if (existing) {
      if (existing.data !== data) throw new AcsError(KMS_ERRORS.versionExists);
      return { SecretName: name, VersionId: versionId, VersionStages: existing.stages };
    }
    const stages = stagesOf(call.params.VersionStages);
    if (stages.includes(CURRENT)) {
      for (const v of secret.versions) {
        v.stages = v.stages.filter((s) => s !== PREVIOUS);
        if (v.stages.includes(CURRENT)) v.stages = [...v.stages.filter((s) => s !== CURRENT), PREVIOUS];
      }
    }
    secret.versions.push(version(data, versionId, call.params.SecretDataType ?? 'text', stages));
    if (secret.versions.length > MAX_VERSIONS) secret.versions.shift();
    return { SecretName: name, VersionId: versionId, VersionStages: stages };
  }
}

function version(data: string, versionId: string, dataType: string, stages: string[]): StoredVersion {
  return {
    data,
    dataType,
    versionId,
    stages,
    createTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/** VersionStages as a JSON list in the query (how RPC sends a list is UNVERIFIED here); ACSCurrent when absent. */
function stagesOf(value: string | undefined): string[] {
  if (!value) return [CURRENT];
  try {
    const parsed = JSON.parse(value) as unknown;
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    // A single label.
  }
  return [value];
}
