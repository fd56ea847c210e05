import {
  buildCheckpoint,
  type Checkpoint,
  checkpointKey,
  checkpointPrefix,
  parseCheckpoint,
} from './integrity-checkpoint';
import { auditKey, digestOf, INTENT_DIR } from './record';
import { type AuditStore, mapLimited, type ReadProgress, type StoredObject } from './store';

export type FindingKind =
  /** The record's content no longer matches its own digest. */
  | 'altered'
  /** The record sits at a key other than `auditKey(prefix, dedupeKey, time)`: moved, renamed or forged. */
  | 'misplaced'
  /** An object under the audit prefix that is not a record. */
  | 'unreadable'
  /** A key pinned by a checkpoint is gone. */
  | 'removed'
  /** A key pinned by a checkpoint holds other bytes than when it was pinned. */
  | 'replaced'
  /** A checkpoint that fails its own digest or shape, or whose predecessor is missing. */
  | 'checkpoint';

export interface Finding {
  kind: FindingKind;
  key: string;
  detail: string;
}

export interface Verification {
  objects: StoredObject[];
  checkpoints: Array<{ key: string; checkpoint: Checkpoint }>;
  findings: Finding[];
  /** Pinned key → sha256 and the checkpoint that pinned it first. */
  pinned: Map<string, { sha256: string; by: string }>;
}

/** Reads the whole audit prefix and its checkpoint chain, and says what does not add up. */
export async function verifyAudit(store: AuditStore, onProgress?: ReadProgress): Promise<Verification> {
  const all = await store.listKeys([store.prefix]);
  const cpPrefix = checkpointPrefix(store.prefix);
  const cpKeys = all.filter((k) => k.startsWith(cpPrefix));
  // Intents are working state of the pipeline, not decisions: neither records to check nor objects to pin.
  const intents = `${store.prefix}${INTENT_DIR}`;
  const objects = await store.read(
    all.filter((k) => !k.startsWith(cpPrefix) && !k.startsWith(intents)),
    onProgress,
  );
  const findings = objects.flatMap((o) => recordFindings(store.prefix, o));

  const bodies = await mapLimited(cpKeys, 8, (key) => store.gateway.getObject(store.bucket, key));
  const checkpoints: Verification['checkpoints'] = [];
  cpKeys.forEach((key, i) => {
    const parsed = parseCheckpoint(bodies[i] as Buffer);
    if ('problem' in parsed)
      findings.push({ kind: 'checkpoint', key, detail: `checkpoint ${parsed.problem}` });
    else checkpoints.push({ key, checkpoint: parsed.checkpoint });
  });
  findings.push(...chainFindings(checkpoints));

  const pinned = new Map<string, { sha256: string; by: string }>();
  for (const { key: by, checkpoint } of checkpoints) {
    for (const entry of checkpoint.entries) {
      if (!pinned.has(entry.key)) pinned.set(entry.key, { sha256: entry.sha256, by });
    }
  }
  const live = new Map(objects.map((o) => [o.key, o.sha256]));
  for (const [key, pin] of pinned) {
    const sha256 = live.get(key);
    if (sha256 === undefined)
      findings.push({
        kind: 'removed',
        key,
        detail: `pinned by checkpoint ${pin.by}, no longer in the bucket`,
      });
    else if (sha256 !== pin.sha256)
      findings.push({
        kind: 'replaced',
        key,
        detail: `bytes differ from those pinned by checkpoint ${pin.by}`,
      });
  }
  return { objects, checkpoints, findings, pinned };
}

function recordFindings(prefix: string, object: StoredObject): Finding[] {
  const { key, record, problem } = object;
  if (!record) return [{ kind: 'unreadable', key, detail: `object ${problem ?? 'is not a record'}` }];
  const findings: Finding[] = [];
  const { digest, ...unsigned } = record;
  if (digestOf(unsigned) !== digest)
    findings.push({
      kind: 'altered',
      key,
      detail: `content does not match its digest (event ${record.eventId})`,
    });
  const expected = auditKey(prefix, record.dedupeKey, record.time);
  if (expected !== key)
    findings.push({ kind: 'misplaced', key, detail: `event ${record.eventId} belongs at ${expected}` });
  return findings;
}

/** Exactly one checkpoint starts the chain; every other one names an existing predecessor, digest included. */
function chainFindings(checkpoints: Verification['checkpoints']): Finding[] {
  const digests = new Map(checkpoints.map(({ key, checkpoint }) => [key, checkpoint.digest]));
  const findings: Finding[] = [];
  let roots = 0;
  for (const { key, checkpoint } of checkpoints) {
    const previous = checkpoint.previous;
    if (previous === null) {
      roots += 1;
      if (roots > 1)
        findings.push({ kind: 'checkpoint', key, detail: 'a second chain start: the chain was rewritten' });
    } else if (digests.get(previous.key) !== previous.digest) {
      findings.push({
        kind: 'checkpoint',
        key,
        detail: digests.has(previous.key)
          ? `its predecessor ${previous.key} was altered`
          : `its predecessor ${previous.key} is missing`,
      });
    }
  }
  return findings;
}

/**
 * Pins every object of the prefix that no checkpoint pins yet, in a new write-once checkpoint chained to
 * the latest one. Returns undefined when there is nothing new to pin.
 */
export async function writeCheckpoint(
  store: AuditStore,
  verification: Verification,
  now: Date = new Date(),
): Promise<{ key: string; checkpoint: Checkpoint } | undefined> {
  const entries = verification.objects
    .filter((o) => !verification.pinned.has(o.key))
    .map(({ key, sha256 }) => ({ key, sha256 }));
  if (entries.length === 0) return undefined;
  const latest = verification.checkpoints.at(-1);
  const checkpoint = buildCheckpoint({
    createdAt: now.toISOString(),
    bucket: store.bucket,
    prefix: store.prefix,
    previous: latest ? { key: latest.key, digest: latest.checkpoint.digest } : null,
    entries,
    total: verification.pinned.size + entries.length,
  });
  const key = checkpointKey(store.prefix, now);
  if ((await store.write(key, JSON.stringify(checkpoint))) === 'exists')
    throw new Error(`checkpoint key ${key} is already taken; run again`);
  return { key, checkpoint };
}
