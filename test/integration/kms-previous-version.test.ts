import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PopOperation } from '../../local/acs/server';
import { IdentityStore } from '../../local/identity';
import { KmsEmulator } from '../../local/kms/emulator';
import { KMS_VERSION, kmsSecrets } from '../../shared/clients/kms';
import { rpcCaller } from '../../shared/clients/rpc-call';
import { KmsSecretCache, SECRET_REFRESH_MS } from '../../shared/config/secrets';

const REGION = 'cn-hangzhou';
const SECRET = 'ossguard/audit-key';

let identities: IdentityStore;
let emulator: KmsEmulator;
let endpoint: string;
let calls: PopOperation[];
/** Answers every ACSPrevious read with KMS being unavailable while set. */
let unavailable: boolean;

beforeEach(async () => {
  identities = new IdentityStore();
  calls = [];
  unavailable = false;
  emulator = new KmsEmulator({
    identities,
    region: REGION,
    intercept: (op) => {
      calls.push(op);
      return unavailable && op.params.VersionStage === 'ACSPrevious'
        ? { status: 503, code: 'ServiceUnavailable', message: 'The service is unavailable.' }
        : undefined;
    },
  });
  endpoint = await emulator.listen();
  emulator.putSecret(SECRET, 'the-first-local-audit-key-0123456789');
});

afterEach(async () => {
  await emulator.close();
});

const previousReads = () => calls.filter((c) => c.params.VersionStage === 'ACSPrevious').length;

describe('the secret refresh of an instance in an account that never rotated the audit key', () => {
  it('asks KMS for ACSPrevious once, and again only after ACSCurrent changed version', async () => {
    let now = 0;
    const kms = kmsSecrets(identities.rootKey, REGION, endpoint);
    const cache = new KmsSecretCache({ auditKey: SECRET }, () => now);
    await cache.get(() => kms);
    expect(cache.previousAuditKey).toBeUndefined();
    for (let refresh = 0; refresh < 3; refresh++) {
      now += SECRET_REFRESH_MS;
      await cache.get(() => kms);
    }
    expect(previousReads()).toBe(1);

    // A rotation moves ACSCurrent to the new version and the old one to ACSPrevious (F-KMS-PUTSECRETVALUE).
    const admin = rpcCaller(
      identities.rootKey,
      { version: KMS_VERSION, host: `kms.${REGION}.aliyuncs.com`, region: REGION },
      endpoint,
    );
    await admin('PutSecretValue', {
      SecretName: SECRET,
      SecretData: 'the-rotated-local-audit-key-0123456789',
      VersionId: 'v2',
    });
    now += SECRET_REFRESH_MS;
    await cache.get(() => kms);
    expect(previousReads()).toBe(2);
    expect(cache.previousAuditKey?.versionId).toBe('v1');
  });

  it('asks again at the next refresh when KMS failed to answer rather than refused', async () => {
    let now = 0;
    const kms = kmsSecrets(identities.rootKey, REGION, endpoint);
    const cache = new KmsSecretCache({ auditKey: SECRET }, () => now);
    unavailable = true;
    await cache.get(() => kms);
    now += SECRET_REFRESH_MS;
    await cache.get(() => kms);
    expect(previousReads()).toBe(2);
  });
});
