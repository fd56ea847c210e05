import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalState } from '../../cli/target';
import { IdentityStore } from '../../local/identity';
import { OssEmulator } from '../../local/oss';
import { buildCheckpoint } from '../../shared/audit/integrity-checkpoint';
import {
  type AuditKey,
  type AuditRecord,
  auditKey,
  digestOf,
  sign,
  type UnsignedAuditRecord,
} from '../../shared/audit/record';
import { CallLog } from '../../shared/clients/calllog';
import { OssClientFactory, OssGateway } from '../../shared/clients/oss';
import { runCli } from '../helpers/cli';

const PREFIX = 'ossguard/audit/';
const REGION = 'cn-hangzhou';
const HOUR = 3_600_000;
const CHROMIUM = '/usr/bin/chromium';

const identities = new IdentityStore();
const emulator = new OssEmulator({ identities });
let dir: string;
let factory: OssClientFactory;
let oss: OssGateway;
const previousState = process.env.OSSGUARD_LOCAL_STATE;
const previousColumns = process.env.COLUMNS;

const run = runCli;

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function auditRecord(eventId: string, fields: Partial<UnsignedAuditRecord> = {}): AuditRecord {
  const time = fields.time ?? ago(HOUR);
  return sign({
    schemaVersion: 1,
    eventId,
    dedupeKey: `actiontrail:${eventId}`,
    eventName: 'PutBucketAcl',
    eventType: 'ApiCall',
    time,
    decidedAt: time,
    guard: 'oss-acl-guard',
    region: REGION,
    accountId: identities.accountId,
    actor: {
      type: 'ram-user',
      userName: 'alice',
      principalId: '200000000000000001',
      sourceIp: '198.51.100.7',
    },
    resource: { bucket: 'site-www' },
    before: { acl: 'public-read' },
    after: { acl: 'private' },
    rules: [
      {
        ruleId: 'bucket-acl-public-read',
        severity: 'high',
        message: 'the bucket ACL grants public read',
        evidence: { acl: 'public-read' },
        mode: 'enforce',
      },
    ],
    decision: 'remediated',
    reason: 'set the bucket ACL back to private',
    dryRun: false,
    ossguardVersion: '0.1.0',
    requestIds: [{ service: 'oss', operation: 'PutBucketAcl', requestId: 'REQ-1', ok: true }],
    alerts: [{ channel: 'dingtalk', ok: true, attempts: 1 }],
    ...fields,
  });
}

const keyOf = (r: AuditRecord) => auditKey(PREFIX, r.dedupeKey, r.time);

async function createBucket(bucket: string, records: AuditRecord[]): Promise<void> {
  await factory.client(REGION).putBucket(bucket);
  for (const r of records) await oss.putObjectIfAbsent(bucket, keyOf(r), JSON.stringify(r));
}

/** A plain PutObject, without `x-oss-forbid-overwrite`: what someone tampering with the bucket would send. */
const overwrite = (bucket: string, key: string, body: string) =>
  factory.client(REGION, bucket).put(key, Buffer.from(body));

const HOSTILE_BUCKET = 'evil\x1b[2J\x1b]0;pwned\x07-bucket';

const review = [
  auditRecord('e-remediated', { time: ago(2 * HOUR) }),
  auditRecord('e-alerted', {
    time: ago(5 * HOUR),
    eventName: 'PutBucketPolicy',
    guard: 'oss-policy-guard',
    actor: { type: 'assumed-role', userName: 'OpsRole:bob', principalId: '300000000000000002' },
    resource: { bucket: 'data-lake' },
    before: { policyPublic: true },
    after: { policyPublic: true },
    rules: [
      {
        ruleId: 'bucket-policy-public',
        severity: 'critical',
        message: 'public policy',
        evidence: {},
        mode: 'alert',
      },
    ],
    decision: 'alerted',
    reason: 'policy grants anonymous read; alert only',
  }),
  auditRecord('e-failed', {
    time: ago(3 * 24 * HOUR),
    eventName: 'PutObjectAcl',
    resource: { bucket: 'site-img', objectKey: '<img src=x onerror=alert(1)>.png' },
    before: { acl: 'public-read' },
    rules: [
      {
        ruleId: 'object-acl-public',
        severity: 'high',
        message: 'public object',
        evidence: {},
        mode: 'enforce',
      },
    ],
    decision: 'failed',
    reason: 'PutObjectAcl was denied',
    error: { name: 'CloudApiError', message: 'AccessDenied', code: 'AccessDenied' },
  }),
  auditRecord('e-excepted', {
    time: ago(10 * 24 * HOUR),
    actor: { type: 'root-account', userName: 'root', principalId: identities.accountId },
    resource: { bucket: 'public-site' },
    decision: 'excepted',
    reason: 'exception: static website',
    exception: { source: 'config', match: 'public-*', reason: 'static website' },
  }),
  auditRecord('e-hostile', {
    time: ago(HOUR / 2),
    actor: { type: 'ram-user', userName: 'mallory\x1b[1A\x1b[2K', principalId: '400000000000000004' },
    resource: { bucket: HOSTILE_BUCKET },
    decision: 'dry-run',
    dryRun: true,
    reason: 'would revert\nFAKE LINE',
  }),
];

const eventIds = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as AuditRecord).eventId);

beforeAll(async () => {
  const endpoint = await emulator.listen();
  const credentials = {
    accessKeyId: identities.rootKey.accessKeyId,
    accessKeySecret: identities.rootKey.accessKeySecret,
  };
  factory = new OssClientFactory({ credentials, endpoint });
  oss = new OssGateway(factory, REGION, new CallLog());
  dir = mkdtempSync(join(tmpdir(), 'ossguard-audit-cli-'));
  const configFile = join(dir, 'ossguard.config.yaml');
  writeFileSync(configFile, `audit:\n  bucket: audit-review\n  prefix: ${PREFIX}\n`);
  const state: LocalState = {
    oss: endpoint,
    region: REGION,
    accountId: identities.accountId,
    ...credentials,
    auditBucket: 'audit-review',
    configFile,
    functionCredentials: { ...credentials, securityToken: '' },
  };
  writeFileSync(join(dir, 'ready.json'), JSON.stringify(state));
  process.env.OSSGUARD_LOCAL_STATE = join(dir, 'ready.json');
  process.env.COLUMNS = '100';
  await createBucket('audit-review', review);
});

afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
  if (previousState === undefined) delete process.env.OSSGUARD_LOCAL_STATE;
  else process.env.OSSGUARD_LOCAL_STATE = previousState;
  if (previousColumns === undefined) delete process.env.COLUMNS;
  else process.env.COLUMNS = previousColumns;
});

describe('ossguard audit list', () => {
  it('prints every record as a table, oldest first, within the terminal width', async () => {
    const { code, stdout } = await run('audit', 'list', '--local');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^time\s+decision\s+event\s+resource\s+actor\s+rules\s+reason$/);
    expect(lines.slice(1, 6).map((l) => l.split(/\s+/)[1])).toEqual([
      'excepted',
      'failed',
      'alerted',
      'remediated',
      'dry-run',
    ]);
    expect(lines.at(-1)).toBe('5 records');
    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(100);
  });

  it('strips escape sequences and newlines that records carry, so a bucket name cannot rewrite the terminal', async () => {
    const { stdout } = await run('audit', 'list', '--local', '--decision', 'dry-run');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting that no control characters got through.
    expect(stdout).not.toMatch(/[\x00-\x09\x0b-\x1f]/);
    expect(stdout).toContain('evil-bucket');
    expect(stdout).not.toMatch(/^FAKE LINE/m);
  });

  it.each([
    [
      ['--since', '24h'],
      ['e-alerted', 'e-remediated', 'e-hostile'],
    ],
    [
      ['--since', '7d', '--until', '1h'],
      ['e-failed', 'e-alerted', 'e-remediated'],
    ],
    [
      ['--decision', 'failed,excepted'],
      ['e-excepted', 'e-failed'],
    ],
    [
      ['--bucket', 'site-*'],
      ['e-failed', 'e-remediated'],
    ],
    [['--rule', 'bucket-policy-public'], ['e-alerted']],
    [['--actor', 'BOB'], ['e-alerted']],
    [
      ['--actor', '200000000000000001', '--since', '30d'],
      ['e-failed', 'e-remediated'],
    ],
    [['--until', ago(30 * 24 * HOUR)], []],
  ])('narrows with %j', async (filters, expected) => {
    const { code, stdout } = await run('audit', 'list', '--local', '--json', ...filters);
    expect(code).toBe(0);
    expect(eventIds(stdout)).toEqual(expected);
  });

  it('prints with --json each record exactly as stored, one per line', async () => {
    const { stdout } = await run('audit', 'list', '--local', '--json');
    const printed = stdout.trim().split('\n');
    expect(printed).toHaveLength(review.length);
    expect(stdout).not.toContain('\x1b');
    const byId = new Map(printed.map((line) => JSON.parse(line) as AuditRecord).map((r) => [r.eventId, r]));
    for (const r of review) expect(byId.get(r.eventId)).toEqual(r);
  });

  it('refuses a --since that is neither a duration nor a time, as a usage error', async () => {
    const { code, stderr } = await run('audit', 'list', '--local', '--since', 'yesterday');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--since.*neither a duration/s);
  });
});

describe('ossguard audit show', () => {
  it('finds a record by its dedupe key and prints every section readably', async () => {
    const { code, stdout } = await run('audit', 'show', 'actiontrail:e-failed', '--local');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Event {8}PutObjectAcl \(ApiCall\)/m);
    expect(stdout).toContain(`Audit key    ${keyOf(review[2] as AuditRecord)}`);
    expect(stdout).toMatch(/^Decision {5}failed: PutObjectAcl was denied$/m);
    expect(stdout).toMatch(/^Resource {5}site-img\/<img src=x onerror=alert\(1\)>\.png$/m);
    expect(stdout).toMatch(/^Error {8}CloudApiError: AccessDenied \(AccessDenied\)$/m);
    expect(stdout).toMatch(/^Digest .*\(matches the content\)$/m);
  });

  it('finds a record by its event id and prints it as stored with --json', async () => {
    const { code, stdout } = await run('audit', 'show', 'e-hostile', '--local', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(review[4]);
  });

  it('says so and exits 1 when no record has that id', async () => {
    const { code, stdout, stderr } = await run('audit', 'show', 'e-nowhere', '--local');
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('no audit record for event e-nowhere');
  });
});

describe('ossguard audit report', () => {
  it('writes one self-contained page that Chromium renders with a visible timeline and counts', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
    }
    const out = join(dir, 'report.html');
    const { code, stderr } = await run('audit', 'report', '--local', '--since', '30d', '--out', out);
    expect(code).toBe(0);
    expect(stderr).toContain('(5 records)');
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.png');

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const dialogs: string[] = [];
      const requests: string[] = [];
      page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      page.on('request', (request) => {
        if (!request.url().startsWith('file:')) requests.push(request.url());
      });
      await page.goto(`file://${out}`);

      const timeline = page.locator('#timeline svg.timeline');
      await expect.poll(() => timeline.isVisible()).toBe(true);
      expect(await timeline.locator('rect').count()).toBeGreaterThanOrEqual(4);
      const box = await timeline.boundingBox();
      expect(box?.height).toBeGreaterThan(100);

      const counts = async (table: string) =>
        page
          .locator(`#${table} tbody tr`)
          .evaluateAll((rows) =>
            Object.fromEntries(
              rows.map((row) => [
                row.querySelector('th')?.textContent,
                Number(row.querySelector('td.n')?.textContent),
              ]),
            ),
          );
      expect(await counts('by-decision')).toEqual({
        remediated: 1,
        alerted: 1,
        failed: 1,
        excepted: 1,
        'dry-run': 1,
      });
      expect(await counts('by-rule')).toEqual({
        'bucket-acl-public-read': 3,
        'bucket-policy-public': 1,
        'object-acl-public': 1,
      });
      expect(await counts('by-actor')).toMatchObject({ alice: 2, 'OpsRole:bob': 1, root: 1 });
      for (const table of ['by-decision', 'by-rule', 'by-actor'])
        await expect.poll(() => page.locator(`#${table}`).isVisible()).toBe(true);
      expect(await page.locator('#records table.state tr.changed').count()).toBeGreaterThanOrEqual(3);
      expect(await page.getByText('<img src=x onerror=alert(1)>.png').count()).toBe(1);

      mkdirSync(resolve('test-artifacts'), { recursive: true });
      await page.screenshot({ path: resolve('test-artifacts/audit-report.png'), fullPage: true });
      expect(dialogs).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});

/** `ossguard audit lock` on the local cloud's audit bucket `bucket`. */
const lock = (bucket: string, days: string) =>
  run('audit', 'lock', '--local', '--audit-bucket', bucket, '--days', days);

describe('ossguard audit lock', () => {
  const locked = [auditRecord('l-1'), auditRecord('l-2', { time: ago(30 * HOUR) })];

  it('locks a retention policy after which OSS refuses to delete or overwrite a record', async () => {
    await createBucket('audit-locked', locked);
    const { code, stdout, stderr } = await lock('audit-locked', '30');
    expect(code).toBe(0);
    expect(stdout).toContain('locked: objects in the audit bucket are now retained for 30 days');
    expect(stderr).toMatch(/checkpoint ossguard\/audit\/checkpoints\/\S+ pins 2 new object\(s\), 2 in all/);
    expect(emulator.bucket('audit-locked')?.worm).toMatchObject({ state: 'Locked', days: 30 });

    const key = keyOf(locked[0] as AuditRecord);
    await expect(oss.deleteObject('audit-locked', key)).rejects.toMatchObject({ code: 'FileImmutable' });
    await expect(overwrite('audit-locked', key, '{"forged":true}')).rejects.toMatchObject({ status: 409 });
    expect(JSON.parse(emulator.object('audit-locked', key)?.body.toString() ?? '')).toEqual(locked[0]);
  });

  it('is a no-op when already locked long enough, and never shortens', async () => {
    for (const days of ['30', '7']) {
      const { code, stdout } = await lock('audit-locked', days);
      expect(code).toBe(0);
      expect(stdout).toContain('already locked for 30 days');
    }
    expect(emulator.bucket('audit-locked')?.worm).toMatchObject({ state: 'Locked', days: 30 });
  });

  it('extends a locked policy when asked for more days', async () => {
    const { code, stdout } = await lock('audit-locked', '90');
    expect(code).toBe(0);
    expect(stdout).toContain('extended the locked retention from 30 to 90 days');
    expect(emulator.bucket('audit-locked')?.worm).toMatchObject({ state: 'Locked', days: 90 });
  });

  it('refuses to replace an unlocked longer policy with a shorter one, and completes one of the same length', async () => {
    await createBucket('audit-pending', [auditRecord('p-1')]);
    await (
      factory.client(REGION) as unknown as { initiateBucketWorm(b: string, d: string): Promise<unknown> }
    ).initiateBucketWorm('audit-pending', '365');
    const refused = await lock('audit-pending', '30');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unlocked 365-day retention policy is in progress.*refusing/);
    expect(emulator.bucket('audit-pending')?.worm).toMatchObject({ state: 'InProgress', days: 365 });

    const completed = await lock('audit-pending', '365');
    expect(completed.code).toBe(0);
    expect(emulator.bucket('audit-pending')?.worm).toMatchObject({ state: 'Locked', days: 365 });
  });

  it('refuses a retention outside 1 day to 70 years as a usage error', async () => {
    const { code } = await lock('audit-locked', '0');
    expect(code).toBe(2);
  });
});

describe('ossguard audit verify', () => {
  it('passes on an intact bucket and says whether it is locked', async () => {
    const { code, stdout } = await run('audit', 'verify', '--local', '--audit-bucket', 'audit-locked');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^intact: 2 object\(s\) under oss:\/\/audit-locked\/ossguard\/audit\/, 1 checkpoint\(s\) pinning 2, 0 problem/m,
    );
    expect(stdout).toContain('retention: locked, 90 days');
  });

  it('warns that removals go unnoticed while no checkpoint exists', async () => {
    const { code, stdout, stderr } = await run('audit', 'verify', '--local');
    // Without a chain, a deleted chain and one never written look alike: not passed as intact.
    expect(code).toBe(1);
    expect(stdout).toMatch(/^UNPINNED {4}\(checkpoints\) {2}no checkpoint pins any of the \d+ record\(s\)/m);
    expect(stderr).toContain('no checkpoint under ossguard/audit/checkpoints/ yet');
  });

  it('flags a record altered, removed, moved or forged before locking, and keeps flagging it once locked', async () => {
    const [altered, removed, moved, forged, kept] = ['t-1', 't-2', 't-3', 't-4', 't-5'].map((id, i) =>
      auditRecord(id, { time: ago((i + 1) * 7 * HOUR) }),
    ) as [AuditRecord, AuditRecord, AuditRecord, AuditRecord, AuditRecord];
    await createBucket('audit-tamper', [altered, removed, moved, forged, kept]);
    const pinned = await run('audit', 'verify', '--local', '--audit-bucket', 'audit-tamper', '--checkpoint');
    // The first checkpoint: this run still says that nothing pinned the records before it.
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toMatch(/pins 5 new object\(s\), 5 in all/);

    await overwrite('audit-tamper', keyOf(altered), JSON.stringify({ ...altered, decision: 'skipped' }));
    await oss.deleteObject('audit-tamper', keyOf(removed));
    const movedKey = `${PREFIX}2020/01/01/${'0'.repeat(40)}.json`;
    await oss.deleteObject('audit-tamper', keyOf(moved));
    await overwrite('audit-tamper', movedKey, JSON.stringify(moved));
    // Re-signed: its own digest holds, only the checkpoint knows the bytes changed.
    const { digest: _digest, ...unsigned } = forged;
    await overwrite(
      'audit-tamper',
      keyOf(forged),
      JSON.stringify(sign({ ...unsigned, reason: 'nothing happened' })),
    );
    expect((await lock('audit-tamper', '1')).code).toBe(0);

    const { code, stdout } = await run(
      'audit',
      'verify',
      '--local',
      '--audit-bucket',
      'audit-tamper',
      '--json',
    );
    expect(code).toBe(1);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const findings = lines.filter((l) => l.type === 'finding').map((l) => `${l.kind} ${l.key}`);
    expect(findings.sort()).toEqual(
      [
        `altered ${keyOf(altered)}`,
        `replaced ${keyOf(altered)}`,
        `removed ${keyOf(removed)}`,
        `removed ${keyOf(moved)}`,
        `misplaced ${movedKey}`,
        `replaced ${keyOf(forged)}`,
      ].sort(),
    );
    expect(lines.at(-1)).toMatchObject({
      type: 'summary',
      intact: false,
      problems: 6,
      worm: { state: 'Locked', days: 1 },
    });

    const text = await run('audit', 'verify', '--local', '--audit-bucket', 'audit-tamper');
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`^REMOVED {5}${keyOf(removed)}  pinned by checkpoint`, 'm'));
    expect(text.stdout).toMatch(/^NOT INTACT: /m);
  });

  it('flags a checkpoint chain with a checkpoint deleted from it', async () => {
    await createBucket('audit-chain', [auditRecord('c-1')]);
    await run('audit', 'verify', '--local', '--audit-bucket', 'audit-chain', '--checkpoint');
    await oss.putObjectIfAbsent('audit-chain', keyOf(auditRecord('c-2')), JSON.stringify(auditRecord('c-2')));
    await run('audit', 'verify', '--local', '--audit-bucket', 'audit-chain', '--checkpoint');
    const checkpoints = (await oss.listObjects('audit-chain', `${PREFIX}checkpoints/`)).keys.map(
      (k) => k.key,
    );
    expect(checkpoints).toHaveLength(2);
    await oss.deleteObject('audit-chain', checkpoints[0] as string);

    const { code, stdout } = await run('audit', 'verify', '--local', '--audit-bucket', 'audit-chain');
    expect(code).toBe(1);
    expect(stdout).toContain(`CHECKPOINT  ${checkpoints[1]}  its predecessor ${checkpoints[0]} is missing`);
  });
});

describe('ossguard audit verify with the audit key', () => {
  const secret = 'local-audit-key-0123456789abcdef';
  const key: AuditKey = { id: 'env', secret: Buffer.from(secret) };
  const previousKey = process.env.OSSGUARD_AUDIT_KEY;
  const keyed = (id: string, fields: Partial<UnsignedAuditRecord> = {}): AuditRecord => {
    const { digest: _d, ...unsigned } = auditRecord(id, fields);
    return sign(unsigned, key);
  };
  /** What another principal who can write the bucket, but not read the key, can do: re-digest, keep or drop the MAC. */
  const rewritten = (record: AuditRecord, keepMac: boolean): string => {
    const { digest: _d, mac, macKeyId, ...unsigned } = record;
    const changed = { ...unsigned, decision: 'skipped' as const, reason: 'nothing to do' };
    return JSON.stringify({ ...changed, digest: digestOf(changed), ...(keepMac ? { mac, macKeyId } : {}) });
  };
  const findingsOf = (stdout: string): string[] =>
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.type === 'finding')
      .map((l) => `${l.kind} ${l.key}`)
      .sort();

  beforeAll(() => {
    process.env.OSSGUARD_AUDIT_KEY = secret;
  });
  afterAll(() => {
    if (previousKey === undefined) delete process.env.OSSGUARD_AUDIT_KEY;
    else process.env.OSSGUARD_AUDIT_KEY = previousKey;
  });

  it('reports a record another principal rewrote with a fresh unkeyed sha256, with or without the old MAC', async () => {
    const [kept, dropped, intact] = ['k-1', 'k-2', 'k-3'].map((id, i) =>
      keyed(id, { time: ago((i + 1) * HOUR) }),
    ) as [AuditRecord, AuditRecord, AuditRecord];
    await createBucket('audit-keyed', [kept, dropped, intact]);
    expect(
      (await run('audit', 'verify', '--local', '--audit-bucket', 'audit-keyed', '--checkpoint')).code,
    ).toBe(1);
    expect((await run('audit', 'verify', '--local', '--audit-bucket', 'audit-keyed')).code).toBe(0);

    await overwrite('audit-keyed', keyOf(kept), rewritten(kept, true));
    await overwrite('audit-keyed', keyOf(dropped), rewritten(dropped, false));
    const { code, stdout } = await run(
      'audit',
      'verify',
      '--local',
      '--audit-bucket',
      'audit-keyed',
      '--json',
    );
    expect(code).toBe(1);
    expect(findingsOf(stdout)).toEqual(
      [
        `forged ${keyOf(kept)}`,
        `replaced ${keyOf(kept)}`,
        `unkeyed ${keyOf(dropped)}`,
        `replaced ${keyOf(dropped)}`,
      ].sort(),
    );
  });

  it('reports a rewritten record even when no checkpoint pinned it', async () => {
    const record = keyed('u-1');
    await createBucket('audit-unpinned', [record]);
    await overwrite('audit-unpinned', keyOf(record), rewritten(record, true));
    const { code, stdout } = await run(
      'audit',
      'verify',
      '--local',
      '--audit-bucket',
      'audit-unpinned',
      '--json',
    );
    expect(code).toBe(1);
    expect(findingsOf(stdout)).toEqual([`forged ${keyOf(record)}`, 'unpinned (checkpoints)']);
  });

  it('reports the checkpoint chain deleted, and the records it pinned as unpinned', async () => {
    const records = [keyed('d-1'), keyed('d-2', { time: ago(2 * HOUR) })];
    await createBucket('audit-nochain', records);
    await run('audit', 'verify', '--local', '--audit-bucket', 'audit-nochain', '--checkpoint');
    await run('audit', 'verify', '--local', '--audit-bucket', 'audit-nochain', '--checkpoint');
    const later = keyed('d-3', { time: ago(HOUR / 4) });
    await oss.putObjectIfAbsent('audit-nochain', keyOf(later), JSON.stringify(later));
    await run('audit', 'verify', '--local', '--audit-bucket', 'audit-nochain', '--checkpoint');
    const checkpoints = (await oss.listObjects('audit-nochain', `${PREFIX}checkpoints/`)).keys.map(
      (k) => k.key,
    );
    expect(checkpoints).toHaveLength(2);

    // The newest link only: the records it pinned are older than the chain's newest listing, and unpinned.
    await oss.deleteObject('audit-nochain', checkpoints[1] as string);
    await run('audit', 'verify', '--local', '--audit-bucket', 'audit-nochain', '--checkpoint');
    await oss.deleteObject('audit-nochain', checkpoints[0] as string);
    const afterAll = (await oss.listObjects('audit-nochain', `${PREFIX}checkpoints/`)).keys.map((k) => k.key);
    for (const k of afterAll) await oss.deleteObject('audit-nochain', k);

    const { code, stdout } = await run('audit', 'verify', '--local', '--audit-bucket', 'audit-nochain');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^UNPINNED {4}\(checkpoints\) {2}no checkpoint pins any of the 3 record\(s\)/m);
    expect(stdout).toMatch(/^NOT INTACT: /m);
  });

  it('reports a record pinned by a checkpoint that was deleted while a later one remains', async () => {
    const first = keyed('p-1');
    await createBucket('audit-gap', [first]);
    await run('audit', 'verify', '--local', '--audit-bucket', 'audit-gap', '--checkpoint');
    const [pinnedBy] = (await oss.listObjects('audit-gap', `${PREFIX}checkpoints/`)).keys.map((k) => k.key);
    // LastModified has whole seconds: the next listing starts more than a second after the first record.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = keyed('p-2', { time: ago(HOUR / 4) });
    await oss.putObjectIfAbsent('audit-gap', keyOf(second), JSON.stringify(second));
    await run('audit', 'verify', '--local', '--audit-bucket', 'audit-gap', '--checkpoint');
    const checkpoints = (await oss.listObjects('audit-gap', `${PREFIX}checkpoints/`)).keys.map((k) => k.key);
    await oss.deleteObject('audit-gap', pinnedBy as string);

    const { code, stdout } = await run('audit', 'verify', '--local', '--audit-bucket', 'audit-gap', '--json');
    expect(code).toBe(1);
    const later = checkpoints.find((k) => k !== pinnedBy) as string;
    expect(findingsOf(stdout)).toEqual([`checkpoint ${later}`, `unpinned ${keyOf(first)}`]);
  });

  it('rejects a checkpoint written without the key', async () => {
    const record = keyed('f-1');
    await createBucket('audit-forged-cp', [record]);
    const forged = buildCheckpoint({
      createdAt: new Date().toISOString(),
      listedAt: new Date().toISOString(),
      bucket: 'audit-forged-cp',
      prefix: PREFIX,
      previous: null,
      entries: [],
      total: 0,
    });
    const at = `${PREFIX}checkpoints/20990101T000000.000Z-00000000.json`;
    await oss.putObjectIfAbsent('audit-forged-cp', at, JSON.stringify(forged));
    const { code, stdout } = await run(
      'audit',
      'verify',
      '--local',
      '--audit-bucket',
      'audit-forged-cp',
      '--json',
    );
    expect(code).toBe(1);
    expect(findingsOf(stdout)).toEqual([`checkpoint ${at}`, 'unpinned (checkpoints)']);
  });
});
