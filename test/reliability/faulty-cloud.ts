import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigPatch, LocalCloud } from '../../local/cloud';
import { type FaultCall, FaultInjector, type FaultPlan } from '../../local/faults';
import { isRecordKey } from '../../shared/audit/query';
import type { AuditRecord } from '../../shared/audit/record';
import type { CloudEvent, EmittedRecord } from '../../shared/events/actiontrail-event';

/** A local cloud whose OSS and RAM answer through a fault injector (rate faults off until a test turns them on). */
export async function startFaultyCloud(
  options: {
    config?: ConfigPatch;
    maxInstances?: number;
    maxRetries?: number;
    plan?: Partial<FaultPlan>;
  } = {},
): Promise<{ cloud: LocalCloud; faults: FaultInjector }> {
  const faults = new FaultInjector({ seed: 1, disabled: true, ...options.plan });
  const cloud = await LocalCloud.start({
    config: options.config ?? {},
    stateDir: mkdtempSync(join(tmpdir(), 'ossguard-reliability-')),
    retryDelayMs: 100,
    maxRetries: options.maxRetries ?? 3,
    maxInstances: options.maxInstances ?? 1,
    intercept: faults.oss,
    ramIntercept: faults.ram,
  });
  return { cloud, faults };
}

export const onAuditBucket =
  (cloud: LocalCloud, operation?: string) =>
  (call: FaultCall): boolean =>
    call.bucket === cloud.auditBucket && (operation === undefined || call.operation === operation);

export async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const requestIdOf = (result: unknown): string | undefined =>
  (result as { res?: { headers?: Record<string, string> } }).res?.headers?.['x-oss-request-id'];

/** The management event a user's call published on the bus, found by the request id OSS answered with. */
export function eventOf(cloud: LocalCloud, result: unknown): CloudEvent {
  const requestId = requestIdOf(result);
  const event = cloud.bus.history().find((e) => e.data.requestId === requestId);
  if (!event) throw new Error(`no event for request ${requestId}`);
  return event;
}

/** The data event an object-level call left in the trail logstore, found by its request id. */
export function dataEventOf(cloud: LocalCloud, result: unknown): EmittedRecord {
  const requestId = requestIdOf(result);
  const found = cloud.trailDataEvents().find((d) => d.record.requestId === requestId);
  if (!found) throw new Error(`no data event for request ${requestId}`);
  return found.record;
}

/** The audit records' dedupeKey: the ActionTrail eventId, whichever path delivered the record. */
export const dedupeKeyOf = (event: CloudEvent | EmittedRecord): string =>
  'specversion' in event ? event.data.eventId : event.eventId;

/** Read from the emulator's store, not through the cloud whose faults the test injects. */
export function recordsFor(cloud: LocalCloud, event: CloudEvent | EmittedRecord): AuditRecord[] {
  const keys = cloud.oss.bucket(cloud.auditBucket)?.objectKeys ?? [];
  return keys
    .filter((key) => isRecordKey('ossguard/audit/', key))
    .map(
      (key) => JSON.parse(cloud.oss.object(cloud.auditBucket, key)?.body.toString() ?? '{}') as AuditRecord,
    )
    .filter((r) => r.dedupeKey === dedupeKeyOf(event));
}

/** How many DingTalk messages and emails name the alert of this event. */
export function alertCopies(cloud: LocalCloud, event: CloudEvent): { dingtalk: number; email: number } {
  const id = dedupeKeyOf(event);
  return {
    dingtalk: cloud.dingtalk.messages().filter((m) => JSON.stringify(m.body).includes(id)).length,
    email: cloud.smtp.messages().filter((m) => (m.mail.text ?? '').includes(id)).length,
  };
}
