import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { LocalCloud } from '../../local/cloud';
import type { AuditRecord } from '../../shared/audit/record';
import { distDir, localStatePath } from '../target';
import type { RegisterCommand } from './index';

interface LocalOptions {
  port: string;
  demo: boolean;
  latency?: string;
}

/** Files the bundled CLI cannot find through `import.meta.url`: they live in the checkout next to dist/. */
export function checkoutPaths() {
  const root = resolve(distDir(), '..');
  const require = createRequire(join(root, 'package.json'));
  const manifest = require.resolve('@serverless-devs/s/package.json');
  const { bin } = require(manifest) as { bin: { s: string } };
  return {
    sYaml: join(root, 's.yaml'),
    workerScript: join(root, 'local', 'fc', 'worker.cjs'),
    sBin: resolve(dirname(manifest), bin.s),
  };
}

const say = (line = '') => process.stdout.write(`${line}\n`);

/** A RAM user makes a bucket public; ossguard reverts it; the demo shows the evidence. */
async function demo(cloud: LocalCloud): Promise<void> {
  const bucket = 'demo-public-website';
  const { key } = cloud.identities.userWithKey('demo-user');
  const client = cloud.ossClient(key);
  say(
    `demo: RAM user demo-user creates bucket ${bucket} and sets its ACL to public-read (ali-oss PutBucketAcl)`,
  );
  await client.putBucket(bucket);
  await cloud.bus.drain();
  await client.putBucketACL(bucket, 'public-read');
  const started = Date.now();
  await cloud.bus.drain();
  const acl = (await client.getBucketACL(bucket)).acl;
  say(`demo: ${bucket} ACL is now ${acl} (${Date.now() - started} ms after the change)`);

  const audit = cloud.adminClient(cloud.auditBucket);
  const listed = await audit.listV2({ prefix: 'ossguard/audit/', 'max-keys': '1000' }, {});
  for (const object of listed.objects ?? []) {
    const record = JSON.parse((await audit.get(object.name)).content.toString()) as AuditRecord;
    if (record.resource.bucket !== bucket || record.eventName !== 'PutBucketAcl') continue;
    say(
      `demo: audit ${object.name}: ${record.decision} (${record.actor.type} ${record.actor.userName}) — ${record.reason}`,
    );
  }
  for (const message of cloud.dingtalk.messages()) {
    const markdown = (message.body as { markdown?: { text?: string } }).markdown?.text;
    if (markdown?.includes(bucket)) say(`demo: DingTalk message received by the local robot:\n${markdown}\n`);
  }
}

export const registerLocal: RegisterCommand = (program) => {
  program
    .command('local')
    .description(
      'Start the local cloud on 127.0.0.1: emulated OSS, RAM/IMS and ActionTrail (signature-checking), the ' +
        "EventBridge bus applying s.yaml's filters, FC running the built functions, a DingTalk robot and an SMTP " +
        'server. Runs a short demo, prints `ossguard local ready {JSON}`, and keeps running until Ctrl-C.',
    )
    .option('--port <port>', 'port of the OSS endpoint (the other services take free ports)', '0')
    .option('--no-demo', 'skip the demo (a bucket made public and reverted)')
    .option('--latency <ms>', 'round-trip time added to every emulated request, for benchmarks')
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
      });
      const info = cloud.readyInfo();
      say(`ossguard local: OSS ${info.oss}, RAM/IMS ${info.ram}, ActionTrail ${info.actiontrail}`);
      say(`ossguard local: DingTalk robot ${info.dingtalk}, SMTP ${info.smtp}`);
      say(
        `ossguard local: account ${info.accountId}, administrator key ${info.accessKeyId} (secret in the ready line)`,
      );
      if (options.demo) await demo(cloud);
      mkdirSync(dirname(statePath), { recursive: true });
      writeFileSync(statePath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
      // The function role's STS session and the robot secret stay in the state file (for `--local` commands), out of the console.
      const { functionCredentials: _sts, functionEnv: _env, ...printable } = info;
      say(`ossguard local ready ${JSON.stringify(printable)}`);

      await new Promise<void>((done) => {
        const stop = () => {
          say('ossguard local: stopping');
          rmSync(statePath, { force: true });
          cloud.stop().then(done, done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
};
