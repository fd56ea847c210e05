import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LocalCloud } from '../../local/cloud';
import { isRecordKey } from '../../shared/audit/query';
import type { AuditRecord } from '../../shared/audit/record';
import { DEFAULT_AUDIT_PREFIX } from '../../shared/config';
import type { RegisterCommand } from '../command';
import { checkoutPaths, localStatePath } from '../target';

interface LocalOptions {
  port: string;
  demo: boolean;
  guards: boolean;
  latency?: string;
  kmsSecrets?: boolean;
}

const say = (line = '') => process.stdout.write(`${line}\n`);

/**
 * A RAM user makes a bucket public (a management event, through EventBridge) and an object public (a data
 * event, through the trail logstore and its log trigger); ossguard reverts both; the demo shows the evidence.
 */
async function demo(cloud: LocalCloud): Promise<void> {
  const bucket = 'demo-public-website';
  const object = 'index.html';
  const { key } = cloud.identities.userWithKey('demo-user');
  const client = cloud.ossClient(key);
  const objects = cloud.ossClient(key, bucket);
  say(`demo: RAM user demo-user creates bucket ${bucket} with ${object} in it`);
  await client.putBucket(bucket);
  await objects.put(object, Buffer.from('<h1>hello</h1>'));
  await cloud.settle();

  say(`demo: demo-user sets the bucket ACL to public-read (PutBucketAcl, a management event on EventBridge)`);
  await client.putBucketACL(bucket, 'public-read');
  let started = Date.now();
  await cloud.settle();
  say(`demo: ${bucket} ACL is now ${(await client.getBucketACL(bucket)).acl} (${Date.now() - started} ms)`);

  say(`demo: demo-user sets ${object} to public-read (PutObjectAcl, a data event in the trail logstore)`);
  await objects.putACL(object, 'public-read');
  started = Date.now();
  await cloud.settle();
  say(
    `demo: ${object} ACL is now ${(await objects.getACL(object)).acl} (${Date.now() - started} ms, ` +
      'including the log trigger interval)',
  );

  const audit = cloud.adminClient(cloud.auditBucket);
  const listed = await audit.listV2({ prefix: DEFAULT_AUDIT_PREFIX, 'max-keys': '1000' }, {});
  for (const { name } of listed.objects ?? []) {
    if (!isRecordKey(DEFAULT_AUDIT_PREFIX, name)) continue;
    const record = JSON.parse((await audit.get(name)).content.toString()) as AuditRecord;
    if (record.resource.bucket !== bucket || record.actor.userName !== 'demo-user') continue;
    if (record.decision !== 'remediated') continue;
    say(`demo: audit ${name}: ${record.guard} ${record.decision} ${record.eventName} — ${record.reason}`);
  }
  const [message] = cloud.dingtalk
    .messages()
    .map((m) => (m.body as { markdown?: { text?: string } }).markdown?.text ?? '')
    .filter((text) => text.includes(bucket));
  if (message) say(`demo: the first DingTalk message the local robot received:\n${message}\n`);
}

export const registerLocal: RegisterCommand = (program) => {
  program
    .command('local')
    .description(
      'Print `ossguard local ready {JSON}` once the local cloud on 127.0.0.1 is up and a short demo has ' +
        'run, then keep running until Ctrl-C. The cloud: emulated OSS, RAM/IMS, ActionTrail and the trail logstore ' +
        "(SLS), all checking signatures; the EventBridge bus applying s.yaml's filters, and s.yaml's log " +
        'triggers; FC running the built functions; a DingTalk robot and an SMTP server.',
    )
    .option('--port <port>', 'port of the OSS endpoint (the other services take free ports)', '0')
    .option('--no-demo', 'skip the demo (a bucket and an object made public and reverted)')
    .option(
      '--no-guards',
      'deploy no function: the same emulated cloud, for testing your own OSS code (no demo either)',
    )
    .option('--latency <ms>', 'round-trip time added to every emulated request, for benchmarks')
    .option(
      '--kms-secrets',
      "keep the robot secret and the audit key in the local KMS (the config's `secrets` block), not in the functions' environment",
    )
    .addHelpText(
      'after',
      '\nPoke it with any OSS client, e.g. ali-oss:\n' +
        "  new OSS({ endpoint: '<oss>', accessKeyId, accessKeySecret, region: 'oss-cn-hangzhou' })\n" +
        'with the endpoint and keys from the ready line; other commands reach it with --local.',
    )
    .action(async (options: LocalOptions) => {
      const statePath = localStatePath();
      const cloud = await LocalCloud.start({
        ...checkoutPaths(),
        ossPort: Number(options.port),
        stateDir: dirname(statePath),
        ...(options.latency ? { latencyMs: Number(options.latency) } : {}),
        ...(options.guards ? {} : { noGuards: true }),
        ...(options.kmsSecrets ? { kmsSecrets: true } : {}),
      });
      const info = cloud.readyInfo();
      say(`ossguard local: OSS ${info.oss}, RAM/IMS ${info.ram}, ActionTrail ${info.actiontrail}`);
      say(`ossguard local: DingTalk robot ${info.dingtalk}, SMTP ${info.smtp}`);
      say(
        `ossguard local: account ${info.accountId}, administrator key ${info.accessKeyId} (secret in the ready line)`,
      );
      if (!options.guards)
        say('ossguard local: no function deployed (--no-guards): nothing reacts to changes');
      else if (options.demo) await demo(cloud);
      mkdirSync(dirname(statePath), { recursive: true });
      const state = `${JSON.stringify(info, null, 2)}\n`;
      writeFileSync(statePath, state, { mode: 0o600 });
      // The function role's and the operator's STS sessions and the robot secret stay in the state file (for
      // `--local` commands), out of the console.
      const { functionCredentials: _sts, functionEnv: _env, operator, ...printable } = info;
      say(`ossguard local ready ${JSON.stringify({ ...printable, operatorRole: operator.roleName })}`);

      await new Promise<void>((done) => {
        const stop = () => {
          say('ossguard local: stopping');
          // Another `ossguard local` started since may have written its own state there: that one stays.
          if (existsSync(statePath) && readFileSync(statePath, 'utf8') === state) rmSync(statePath);
          cloud.stop().then(done, done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
};
