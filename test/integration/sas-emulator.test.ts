import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityStore } from '../../local/identity';
import { SasEmulator, type SasEmulatorOptions } from '../../local/sas/emulator';
import { CallLog } from '../../shared/clients/calllog';
import { SasGateway, sasCaller } from '../../shared/clients/sas';
import { CloudApiError } from '../../shared/errors';

const NO_RETRY = { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

let identities: IdentityStore;
let emulator: SasEmulator;
let endpoint: string;

async function start(options: Partial<SasEmulatorOptions> = {}): Promise<void> {
  await emulator?.close();
  emulator = new SasEmulator({ identities, ...options });
  endpoint = await emulator.listen(0, '127.0.0.1');
}

const rootGateway = (secret = identities.rootKey.accessKeySecret) =>
  new SasGateway(
    sasCaller({ accessKeyId: identities.rootKey.accessKeyId, accessKeySecret: secret }, endpoint),
    NO_RETRY,
  );

beforeEach(async () => {
  identities = new IdentityStore();
  await start();
});
afterEach(() => emulator.close());

describe('the local Security Center', () => {
  it('lists planted findings in the documented shape, page by page, from StartTs on', async () => {
    const old = emulator.plant({
      accessKeyId: 'LTAIold000000001',
      foundAt: new Date(Date.now() - 30 * 86_400_000),
    });
    const ids = Array.from({ length: 150 }, (_, i) =>
      emulator.plant({
        accessKeyId: `LTAIleak${String(i).padStart(8, '0')}`,
        userType: i === 0 ? 'master' : 'ram',
      }),
    );
    const since = Date.now() - 86_400_000;

    const found = await rootGateway().leaks(since, new CallLog());

    expect(found.map((f) => f.id)).toEqual(ids);
    expect(found.map((f) => f.id)).not.toContain(old);
    expect(found[0]).toMatchObject({
      accessKeyId: 'LTAIleak00000000',
      userType: 'master',
      status: 'pending',
      dealType: 'pending',
      url: expect.stringMatching(/^https:\/\/github\.com\//),
    });
    expect(found[0]?.foundAt).toBeGreaterThanOrEqual(since);
  });

  it('says in the detail whether a finding is whitelisted', async () => {
    const open = emulator.plant({ accessKeyId: 'LTAIopen00000001' });
    const trusted = emulator.plant({ accessKeyId: 'LTAItrusted00001', whitelisted: true });
    const gateway = rootGateway();

    expect(await gateway.detail(open, new CallLog())).toMatchObject({ whitelisted: false, source: 'GitHub' });
    expect(await gateway.detail(trusted, new CallLog())).toMatchObject({ whitelisted: true });
  });

  it('refuses a call whose signature was made with the wrong secret', async () => {
    await expect(rootGateway('not-the-secret').leaks(0, new CallLog())).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });

  it('refuses a caller RAM does not allow, naming the documented action', async () => {
    const asked: string[] = [];
    await start({
      authorize: (_caller, action) => {
        asked.push(action);
        return false;
      },
    });
    const error = await rootGateway()
      .leaks(0, new CallLog())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudApiError);
    expect(error).toMatchObject({ code: 'NoPermission', retryable: false });
    expect(asked).toEqual(['yundun-aegis:DescribeAccesskeyLeakList']);
  });
});
