import {
  buildCheckpoint,
  type Checkpoint,
  checkpointKey,
  checkpointPrefix,
  parseCheckpoint,
} from './integrity-checkpoint';
import { ALERT_BUDGET_DIR, type AuditKey, auditKey, INTENT_DIR, recordSeal } from './record';
import { type AuditStore, mapLimited, type ReadProgress, type StoredObject } from './store';

/**
 * The most of one checkpoint `verify` reads (OssGateway.getObject): a checkpoint pins each object new since the
 * one before in about 150 bytes, so 256 MiB holds over a million of them, and a planted object under
 * `checkpoints/` cannot exhaust the reviewer's memory.
 */
const CHECKPOINT_MAX_BYTES = 256 * 1024 * 1024;

export type FindingKind =
  /** The record's content no longer matches its own digest. */
  | 'altered'
  /** The record's digest holds but its MAC does not: rewritten by someone without the audit key. */
  | 'forged'
  /** Checked with the audit key, the record carries no MAC: anyone who can write the bucket could have written it. */
  | 'unkeyed'
  /**
   * A record no checkpoint pins although a later checkpoint listed the bucket after it was written (the
   * checkpoint that pinned it was deleted), or records while no checkpoint exists at all (the chain was
   * deleted, or never written).
   */
  | 'unpinned'
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
  /** Whether MACs were checked (an audit key was given). */
  keyed: boolean;
  /** Records and checkpoints whose MAC held, by the id of the audit key that verified them. */
  verifiedBy: Record<string, { records: number; checkpoints: number }>;
  /** When the listing began: every object written before it was read, so a checkpoint of it pins them all. */
  startedAt: string;
}

export interface VerifyOptions {
  /** The audit key: with it, every record and checkpoint must carry a MAC that holds. */
  key?: AuditKey;
  /**
   * The keys that may have made a MAC naming another key id than `key`'s: an earlier version of the audit key,
   * from before it was rotated (none if it cannot be read: what it made then counts as forged).
   */
  olderKeys?: (macKeyId: string) => Promise<AuditKey[]>;
  onProgress?: ReadProgress;
}

/** Candidate keys by the key id a MAC names. */
type Keyring = Map<string, AuditKey[]>;

/** The key ids the objects' and checkpoints' MACs name that `key` is not, with the keys that may have made them. */
async function keyringFor(
  ids: Iterable<string>,
  key: AuditKey | undefined,
  olderKeys: VerifyOptions['olderKeys'],
): Promise<Keyring> {
  const ring: Keyring = new Map(key ? [[key.id, [key]]] : []);
  if (!key || !olderKeys) return ring;
  for (const id of new Set(ids)) {
    if (!ring.has(id)) ring.set(id, await olderKeys(id).catch(() => []));
  }
  return ring;
}

const macKeyIdOf = (value: unknown): string | undefined => {
  const id = (value as { macKeyId?: unknown } | null)?.macKeyId;
  return typeof id === 'string' ? id : undefined;
};

/** Reads the whole audit prefix and its checkpoint chain, and says what does not add up. */
export async function verifyAudit(store: AuditStore, options: VerifyOptions = {}): Promise<Verification> {
  const { key: sealKey, onProgress } = options;
  const startedAt = new Date().toISOString();
  const listed = await store.listObjects([store.prefix]);
  const all = listed.map((o) => o.key);
  const modified = new Map(listed.map((o) => [o.key, Date.parse(o.lastModified)]));
  const cpPrefix = checkpointPrefix(store.prefix);
  const cpKeys = all.filter((k) => k.startsWith(cpPrefix));
  // Intents are working state of the pipeline, not decisions: neither records to check nor objects to pin.
  // Neither are the alert budget's slots.
  const skipped = [cpPrefix, `${store.prefix}${INTENT_DIR}`, `${store.prefix}${ALERT_BUDGET_DIR}`];
  const objects = await store.read(
    all.filter((k) => !skipped.some((dir) => k.startsWith(dir))),
    onProgress,
  );
  const bodies = await mapLimited(cpKeys, 8, (key) => store.bytes(key, CHECKPOINT_MAX_BYTES));
  const cpKeyIds = bodies.map((body) => {
    try {
      return body && macKeyIdOf(JSON.parse(body.toString('utf8')));
    } catch {
      return undefined;
    }
  });
  const ring = await keyringFor(
    [...objects.map((o) => macKeyIdOf(o.record)), ...cpKeyIds].filter((id): id is string => !!id),
    sealKey,
    options.olderKeys,
  );
  const verifiedBy: Verification['verifiedBy'] = {};
  const tally = (id: string, what: 'records' | 'checkpoints') => {
    verifiedBy[id] ??= { records: 0, checkpoints: 0 };
    verifiedBy[id][what] += 1;
  };
  const findings = objects.flatMap((o) => recordFindings(store.prefix, o, sealKey, ring, tally));

  const checkpoints: Verification['checkpoints'] = [];
  cpKeys.forEach((key, i) => {
    const body = bodies[i];
    if (!body) {
      findings.push({
        kind: 'checkpoint',
        key,
        detail: `checkpoint is larger than ${CHECKPOINT_MAX_BYTES} bytes: not read`,
      });
      return;
    }
    // A MAC naming a key that cannot be read is checked with the current key, and fails as before.
    const named = ring.get(cpKeyIds[i] ?? '') ?? [];
    const candidates = named.length > 0 ? named : sealKey ? [sealKey] : [];
    const tries = (candidates.length > 0 ? candidates : [undefined]).map((k) => ({
      k,
      parsed: parseCheckpoint(body, k),
    }));
    const good = tries.find((t) => 'checkpoint' in t.parsed);
    if (good && 'checkpoint' in good.parsed) {
      if (good.k) tally(good.k.id, 'checkpoints');
      checkpoints.push({ key, checkpoint: good.parsed.checkpoint });
    } else {
      const first = tries[0]?.parsed;
      const problem = first && 'problem' in first ? first.problem : 'cannot be read';
      findings.push({ kind: 'checkpoint', key, detail: `checkpoint ${problem}` });
    }
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
  findings.push(...unpinnedFindings(objects, modified, checkpoints, pinned));
  return { objects, checkpoints, findings, pinned, keyed: sealKey !== undefined, verifiedBy, startedAt };
}

/**
 * A checkpoint pins every object written before its listing began (`listedAt`), so an object written before
 * the newest checkpoint's listing (LastModified, set by OSS) that no checkpoint pins was pinned by a checkpoint
 * since deleted. With no checkpoint at all, removed records cannot be told: said, not passed over.
 */
function unpinnedFindings(
  objects: readonly StoredObject[],
  modified: ReadonlyMap<string, number>,
  checkpoints: Verification['checkpoints'],
  pinned: Verification['pinned'],
): Finding[] {
  const records = objects.filter((o) => o.record);
  if (checkpoints.length === 0) {
    if (records.length === 0) return [];
    return [
      {
        kind: 'unpinned',
        key: '(checkpoints)',
        detail:
          `no checkpoint pins any of the ${records.length} record(s): the checkpoint chain was deleted, or none ` +
          'was written yet (`ossguard audit lock` writes one); removed records cannot be told',
      },
    ];
  }
  // OSS gives LastModified in whole seconds (F-OSS-LASTMODIFIED-SECONDS): an object of the listing's own
  // second may not have been listed.
  const listedAt =
    Math.max(...checkpoints.map((c) => Date.parse(c.checkpoint.listedAt ?? '') || 0)) -
    LAST_MODIFIED_PRECISION_MS;
  return records
    .filter((o) => !pinned.has(o.key) && (modified.get(o.key) ?? Number.POSITIVE_INFINITY) < listedAt)
    .map((o) => ({
      kind: 'unpinned' as const,
      key: o.key,
      detail:
        `written ${new Date(modified.get(o.key) ?? 0).toISOString()}, before the newest checkpoint listed the ` +
        'bucket, yet pinned by no checkpoint: the checkpoint that pinned it was deleted',
    }));
}

const LAST_MODIFIED_PRECISION_MS = 1_000;

const SEAL_FINDINGS = {
  altered: 'content does not match its digest',
  forged: 'its MAC does not hold under the audit key: rewritten by someone without the key',
  unkeyed:
    'carries no MAC: written without the audit key, so anyone who can write the bucket could have written it',
} as const;

function recordFindings(
  prefix: string,
  object: StoredObject,
  sealKey: AuditKey | undefined,
  ring: Keyring,
  tally: (id: string, what: 'records') => void,
): Finding[] {
  const { key, record, problem } = object;
  if (!record) return [{ kind: 'unreadable', key, detail: `object ${problem ?? 'is not a record'}` }];
  const findings: Finding[] = [];
  // The key its MAC names (an earlier version of the audit key, after a rotation), else the current one.
  const candidates = ring.get(record.macKeyId ?? '') ?? [];
  const verifiedWith = candidates.find((k) => recordSeal(record, k) === 'verified');
  const seal = verifiedWith ? 'verified' : recordSeal(record, candidates[0] ?? sealKey);
  if (verifiedWith) tally(verifiedWith.id, 'records');
  const unreadKey =
    seal === 'forged' && record.macKeyId && candidates.length === 0 && record.macKeyId !== sealKey?.id
      ? `; it names audit key ${record.macKeyId}, which could not be read`
      : '';
  if (seal !== 'verified' && (seal !== 'unkeyed' || sealKey))
    findings.push({
      kind: seal,
      key,
      detail: `${SEAL_FINDINGS[seal]} (event ${record.eventId})${unreadKey}`,
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
  key?: AuditKey,
  now: Date = new Date(),
): Promise<{ key: string; checkpoint: Checkpoint } | undefined> {
  const entries = verification.objects
    .filter((o) => !verification.pinned.has(o.key))
    .map(({ key, sha256 }) => ({ key, sha256 }));
  if (entries.length === 0) return undefined;
  const latest = verification.checkpoints.at(-1);
  const checkpoint = buildCheckpoint(
    {
      createdAt: now.toISOString(),
      listedAt: verification.startedAt,
      bucket: store.bucket,
      prefix: store.prefix,
      previous: latest ? { key: latest.key, digest: latest.checkpoint.digest } : null,
      entries,
      total: verification.pinned.size + entries.length,
    },
    key,
  );
  const at = checkpointKey(store.prefix, now);
  if ((await store.write(at, JSON.stringify(checkpoint))) === 'exists')
    throw new Error(`checkpoint key ${at} is already taken; run again`);
  return { key: at, checkpoint };
}
