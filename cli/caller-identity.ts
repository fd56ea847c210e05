import { rpcCaller } from '../shared/clients/rpc-call';
import { sanitize } from './audit/text';
import type { CloudTarget, TargetOptions } from './target';

/** STS, version 2015-04-01, one public endpoint (F-STS-ASSUMEROLE, F-STS-GETCALLERIDENTITY). */
const STS = { version: '2015-04-01', host: 'sts.aliyuncs.com' };

/** What GetCallerIdentity answers for an Alibaba Cloud account's own AccessKey (F-STS-IDENTITYTYPE-ACCOUNT). */
const ROOT_IDENTITY_TYPE = 'Account';

/** A warning must not hold the command up: past these the check gives up and says nothing. */
const TIMEOUTS = { connectTimeout: 2_000, readTimeout: 3_000 };

/**
 * Asks STS who the command runs as, and warns once on stderr when it is an Alibaba Cloud account's own
 * (root) AccessKey, which may do everything and which the documentation asks not to use
 * (F-ROOT-ACCESSKEY-RISK). Never blocks and never fails the command: when the question cannot
 * be answered it says nothing. The local cloud's administrator key that `--local` picks when no `--profile`
 * is given is not the user's choice, so it is not questioned (the local cloud's first screen stays quiet).
 * Call it once, where the command resolves its target.
 */
export async function warnIfRootAccount(
  target: CloudTarget,
  options: TargetOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (target.kind === 'local' && !options.profile) return;
  const endpoint = target.local?.sts ?? env.OSSGUARD_STS_ENDPOINT;
  let identity: Record<string, unknown>;
  try {
    const call = rpcCaller(
      target.credentials,
      { ...STS, region: target.region },
      endpoint || undefined,
      TIMEOUTS,
    );
    identity = await call('GetCallerIdentity', {});
  } catch {
    return;
  }
  if (identity.IdentityType !== ROOT_IDENTITY_TYPE) return;
  const account = typeof identity.AccountId === 'string' ? ` ${sanitize(identity.AccountId)}` : '';
  process.stderr.write(
    `ossguard: warning: these credentials are the AccessKey of Alibaba Cloud account${account} itself ` +
      '(the root account): it may call every API of the account and no RAM policy narrows it, so the OSS ' +
      'best practices call using it high-risk and ask for a RAM user with only the permissions it needs, ' +
      "or temporary STS credentials. Run ossguard with a RAM user's key, or better with a RamRoleArn " +
      'profile (`aliyun configure --mode RamRoleArn --profile ossguard-admin`, then ' +
      '`--profile ossguard-admin`; README, "Command line").\n',
  );
}
