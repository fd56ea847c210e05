import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Ram from '@alicloud/ram20150501';
import * as $Ram from '@alicloud/ram20150501';
import type OSS from 'ali-oss';
import { beforeEach, vi } from 'vitest';
import { type ConfigPatch, LocalCloud, type LocalCloudOptions } from '../../local/cloud';
import { newRequestId } from '../../local/identity';
import { ossRecord } from '../../local/oss/trail';
import { isRecordKey } from '../../shared/audit/query';
import type { AuditRecord } from '../../shared/audit/record';
import type { CloudCredentials } from '../../shared/clients/oss';
import { popConfig } from '../../shared/clients/pop';
import { sdkClient } from '../../shared/clients/ram-sdk';
import { type CloudEvent, wrapCloudEvent } from '../../shared/events/actiontrail-event';
import type { SweepResult } from '../../shared/sweep/sweep';

/**
 * A robot that takes this many messages a minute: a file's alerts then never wait for the next minute's window
 * of DingTalk's 20 (up to the 25 s delivery deadline). Tests of the robot's budget pass the real limit.
 */
export const FAST_ROBOT_PER_MINUTE = 600;

/**
 * A local ActionTrail that takes this many LookupEvents calls a second, which `--local` commands then pace to:
 * a replay's lookups wait on no second's window. The pacer's own tests keep the real 2 (F-ACTIONTRAIL-LOOKUP-RATE,
 * test/integration/replay-lookup.test.ts).
 */
export const FAST_LOOKUP_PER_SECOND = 20;

/** Starts the local cloud for an end-to-end test; the functions run from `dist/` (npm test builds first). */
export async function startCloud(
  config: ConfigPatch = {},
  options: Omit<LocalCloudOptions, 'config' | 'stateDir'> = {},
): Promise<LocalCloud> {
  const cloud = await LocalCloud.start({
    config,
    stateDir: mkdtempSync(join(tmpdir(), 'ossguard-e2e-')),
    retryDelayMs: 50,
    dingtalkMessagesPerMinute: FAST_ROBOT_PER_MINUTE,
    ...options,
  });
  runningClouds.add(cloud);
  const stop = cloud.stop.bind(cloud);
  cloud.stop = async () => {
    runningClouds.delete(cloud);
    await stop();
  };
  return cloud;
}

const runningClouds = new Set<LocalCloud>();

// Every file that starts a cloud here prints what its functions did when one of its tests fails.
beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => {
    if (runningClouds.size > 0) console.error(await describeFunctionFailures());
  });
});

/**
 * What the functions did, for a failed test's output: failed and dead-lettered deliveries and the functions'
 * warnings and errors. A test that fails only on a loaded CI machine can then be read from CI's log.
 */
export async function describeFunctionFailures(): Promise<string> {
  const described = await Promise.all(
    [...runningClouds].map(async (cloud) => {
      const records = await auditRecords(cloud).catch((error: unknown) => [String(error)]);
      const recent = records
        .slice(-15)
        .map((r) =>
          typeof r === 'string'
            ? `  audit records unread: ${r}`
            : `  ${r.guard} ${r.eventName} ${r.decision}: ${r.reason}`,
        );
      const failed = cloud.bus
        .deliveries()
        .filter((d) => !d.ok)
        .map(
          (d) =>
            `  ${d.functionName} attempt ${d.attempt} of ${d.eventId}: ${d.error?.name}: ${d.error?.message}`,
        );
      const dead = cloud.bus
        .deadLetters()
        .map(
          (d) =>
            `  dead letter ${d.event.data.eventName} ${d.event.id} after ${d.attempts}: ${d.error.message}`,
        );
      const logs = cloud.fc.logs
        .filter((line) => line.source === 'stderr' || line.level === 'warn' || line.level === 'error')
        .slice(-30)
        .map(
          (line) =>
            `  ${line.functionName} ${line.requestId ?? '-'} ${line.level ?? line.source}: ${line.message.slice(0, 400)}`,
        );
      return [
        `local cloud: ${cloud.bus.deliveries().length} deliveries`,
        ...failed,
        ...dead,
        ...(logs.length > 0 ? ['  last warnings and errors:', ...logs] : []),
        ...(recent.length > 0 ? ['  newest audit records:', ...recent] : []),
      ].join('\n');
    }),
  );
  return described.join('\n');
}

/**
 * A client of RAM's SDK or of IMS's (the RAM console's API, which the local cloud serves at RAM's endpoint),
 * configured as the functions configure theirs (shared/clients/ram-sdk.ts) and signed with `key`: by default the
 * root account's, the owner acting in the console.
 */
export function ramClient<T>(
  cloud: LocalCloud,
  client: Parameters<typeof sdkClient<T>>[0],
  key: CloudCredentials = cloud.identities.rootKey,
): T {
  return sdkClient(client, popConfig(key, 'ram.aliyuncs.com', 'cn-shanghai', cloud.endpoints.ram));
}

/** What FC answers when its timer trigger invokes oss-sweeper (`payload` is the s.yaml's, as a string). */
export const timerInvocation = (cloud: LocalCloud, payload: Record<string, unknown> = {}) =>
  cloud.bus.invoke(
    'oss-sweeper',
    JSON.stringify({
      triggerTime: new Date().toISOString(),
      triggerName: 'hourly-sweep',
      payload: JSON.stringify(payload),
    }),
  );

/** The timer trigger's invocation of oss-sweeper: resolves to what it returned; throws what it failed with. */
export async function invokeSweeper<Result = SweepResult>(
  cloud: LocalCloud,
  payload: Record<string, unknown> = {},
): Promise<Result> {
  const outcome = await timerInvocation(cloud, payload);
  if (!outcome.ok) throw new Error(`oss-sweeper failed: ${outcome.error.name}: ${outcome.error.message}`);
  return outcome.result as Result;
}

/** A RAM user, user group or role a policy is attached to. */
export type PolicyHolder = { user: string } | { group: string } | { role: string };

/** Attaches a system policy, or a custom one, to a user, group or role, as the owner does in the console. */
export async function attachPolicy(
  ram: Ram,
  holder: PolicyHolder,
  policyName: string,
  policyType: 'System' | 'Custom' = 'System',
): Promise<void> {
  if ('user' in holder)
    await ram.attachPolicyToUser(
      new $Ram.AttachPolicyToUserRequest({ policyType, policyName, userName: holder.user }),
    );
  else if ('group' in holder)
    await ram.attachPolicyToGroup(
      new $Ram.AttachPolicyToGroupRequest({ policyType, policyName, groupName: holder.group }),
    );
  else
    await ram.attachPolicyToRole(
      new $Ram.AttachPolicyToRoleRequest({ policyType, policyName, roleName: holder.role }),
    );
}

/** A RAM user's ali-oss client: the actor who makes things public in these tests. */
export function userClient(cloud: LocalCloud, name: string, bucket?: string): OSS {
  const { key } = cloud.identities.userWithKey(name);
  return cloud.ossClient(key, bucket);
}

/**
 * The CloudEvent the OSS emulator would publish for a RAM user's write, for changes a test cannot make
 * happen for real, such as one whose bucket is gone by the time the function runs.
 */
export function ossChangeEvent(
  cloud: LocalCloud,
  change: {
    actor: string;
    operation: string;
    bucket: string;
    key?: string;
    headers?: Record<string, string>;
  },
): CloudEvent {
  const { key: accessKey } = cloud.identities.userWithKey(change.actor);
  const found = cloud.identities.lookup(accessKey.accessKeyId);
  if (found.kind !== 'ok') throw new Error(`no active key for ${change.actor}`);
  const record = ossRecord({
    operation: change.operation,
    caller: found.caller,
    request: {
      method: 'PUT',
      bucket: change.bucket,
      ...(change.key === undefined ? {} : { key: change.key }),
      query: [],
      headers: change.headers ?? {},
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
      userAgent: 'ossguard-e2e',
    },
    region: cloud.region,
    requestId: newRequestId(),
  });
  return wrapCloudEvent(record);
}

/**
 * Block Public Access of a bucket, or of the account when `bucket` is '', through ali-oss's signed low-level
 * `request` (it has no methods for it). Resolves to the setting in force afterwards.
 */
export async function publicAccessBlock(
  client: OSS,
  bucket: string,
  method: 'GET' | 'PUT' | 'DELETE',
  on = false,
): Promise<boolean> {
  const xml = `<PublicAccessBlockConfiguration><BlockPublicAccess>${on}</BlockPublicAccess></PublicAccessBlockConfiguration>`;
  const result = await (
    client as unknown as { request(params: object): Promise<{ data?: { BlockPublicAccess?: unknown } }> }
  ).request({
    method,
    bucket,
    subres: 'publicAccessBlock',
    ...(method === 'PUT' ? { content: Buffer.from(xml), mime: 'application/xml' } : {}),
    successStatuses: [200, 204],
    xmlResponse: method === 'GET',
  });
  return method === 'GET' ? String(result.data?.BlockPublicAccess) === 'true' : on;
}

/**
 * Records every secret the functions are given (the robot's signing secret and access token, each STS
 * session FC hands out from now on); `leaks()` names those found in logs, audit records, alerts or invocation results.
 */
export function watchSecrets(cloud: LocalCloud): { leaks(): Promise<string[]> } {
  const env = cloud.functionEnv();
  const config = JSON.parse(env.OSSGUARD_CONFIG ?? '{}') as { alerts?: { dingtalk?: { webhook?: string } } };
  const webhook = new URL(config.alerts?.dingtalk?.webhook ?? 'http://none');
  const secrets = new Set([env.OSSGUARD_DINGTALK_SECRET, webhook.searchParams.get('access_token')]);
  const assumeRole = vi.spyOn(cloud.identities, 'assumeRole');
  return {
    async leaks() {
      const sessions = assumeRole.mock.results.flatMap((r) => (r.type === 'return' ? [r.value] : []));
      // Without a session the check would pass for want of anything to look for.
      if (sessions.length === 0) throw new Error('FC handed out no STS session since watchSecrets');
      for (const session of sessions) secrets.add(session.accessKeySecret).add(session.securityToken);
      const places: Record<string, string> = {
        'function logs': cloud.fc.logs.map((line) => line.message).join('\n'),
        'audit records': JSON.stringify(await auditRecords(cloud)),
        'DingTalk messages': JSON.stringify(cloud.dingtalk.messages().map((m) => m.body)),
        emails: cloud.smtp
          .messages()
          .map((m) => m.raw)
          .join('\n'),
        'invocation results': JSON.stringify(cloud.bus.deliveries()),
      };
      return Object.entries(places).flatMap(([where, text]) =>
        [...secrets].filter((s) => s && text.includes(s)).map((s) => `${where}: ${s?.slice(0, 4)}…`),
      );
    },
  };
}

export async function auditRecords(cloud: LocalCloud): Promise<AuditRecord[]> {
  const client = cloud.adminClient(cloud.auditBucket);
  const listed = await client.listV2({ prefix: 'ossguard/audit/', 'max-keys': '1000' }, {});
  const records = await Promise.all(
    (listed.objects ?? [])
      .filter((o) => isRecordKey('ossguard/audit/', o.name))
      .map(async (o) => JSON.parse((await client.get(o.name)).content.toString()) as AuditRecord),
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

/** What trail-guard decided about one ActionTrail event, over all its successful log-trigger invocations. */
export function trailDecisions(cloud: LocalCloud, eventId: string): string[] {
  return cloud.logTriggers
    .deliveries()
    .filter((d) => d.ok)
    .flatMap((d) => (d.result as { decisions: Array<{ eventId: string; decision: string }> }).decisions)
    .filter((d) => d.eventId === eventId)
    .map((d) => d.decision);
}
