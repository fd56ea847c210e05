/**
 * `npx tsx bench/costs.ts`: ossguard's monthly cost on Alibaba Cloud, printed as the markdown table of README.md
 * ("What it costs"). Every price is a named constant that cites its fact in docs/cloud-facts.md ("Prices"); a
 * price no page confirms is `null`, and every figure that needs it prints "—" instead of a number. Every other
 * input is a named assumption. No network, no cloud: arithmetic only.
 */

// ---------------------------------------------------------------------------------------------------------
// Prices (docs/cloud-facts.md, "Prices")
// ---------------------------------------------------------------------------------------------------------

/** FC 3.0 bills CU, tiered by the month's total CU; USD per CU (F-PRICE-FC-CU). The 2024-25 promotion is over. */
const FC_CU_TIERS: readonly { upToCu: number; usdPerCu: number }[] = [
  { upToCu: 100e6, usdPerCu: 0.00002 },
  { upToCu: 500e6, usdPerCu: 0.000017 },
  { upToCu: Number.POSITIVE_INFINITY, usdPerCu: 0.000014 },
];
/** 75 CU per 10,000 invocations (F-PRICE-FC-CU-FACTORS). */
const FC_CU_PER_INVOCATION = 75 / 10_000;
/** 1 CU per active vCPU-second (F-PRICE-FC-CU-FACTORS). */
const FC_CU_PER_VCPU_SECOND = 1;
/** 0.15 CU per memory GB-second (F-PRICE-FC-CU-FACTORS). */
const FC_CU_PER_GB_SECOND = 0.15;
/** Publishing on the system (default) bus and delivering to FC are free (F-PRICE-EVENTBRIDGE-SYSTEM-BUS). */
const EVENTBRIDGE_USD_PER_EVENT = 0;
/** USD per 10,000 OSS GET / PUT requests: no page read gives the number, unverified (F-PRICE-OSS-REQUESTS). */
const OSS_USD_PER_10K_GET: number | null = null;
const OSS_USD_PER_10K_PUT: number | null = null;
/** SLS pay-by-ingested-data, USD per GB of raw data written: unverified (F-PRICE-SLS-INGEST). */
const SLS_USD_PER_GB_INGESTED: number | null = null;
/** Days of storage included in the ingest price (F-PRICE-SLS-INGEST). */
const SLS_INCLUDED_STORAGE_DAYS = 30;
/** SLS storage beyond the included days, USD per GB-month: unverified (F-PRICE-SLS-STORAGE). */
const SLS_USD_PER_GB_MONTH_STORED: number | null = null;
/** ActionTrail's own charge per OSS data event, if any: unverified (F-PRICE-ACTIONTRAIL-DATA-EVENTS). */
const ACTIONTRAIL_USD_PER_DATA_EVENT: number | null = null;

// ---------------------------------------------------------------------------------------------------------
// Inputs and assumptions
// ---------------------------------------------------------------------------------------------------------

const BUCKET_COUNTS = [100, 10_000];
/** Records the trail writes to its logstore a day: OSS write data events, plus management events. */
const EVENTS_PER_DAY = [10_000, 1_000_000];
const DAYS_PER_MONTH = 30;
const SECONDS_PER_DAY = 86_400;
const BYTES_PER_GB = 1e9;

/** s.yaml: trail-guard's log trigger fires once per shard per interval while data arrives (F-FC-LOGTRIGGER-INVOCATION). */
const TRIGGER_INTERVAL_S = 10;
/** Shards of `actiontrail_<trail>`: ActionTrail creates the logstore, its shard count is assumed. */
const TRAIL_SHARDS = 2;
/**
 * Bytes per record: 1.3 KB, rounded up from the local cloud's OSS data-event records, ~0.95 KB as JSON
 * (`local/oss/trail.ts`), to leave room for the log's other fields; the size of real records is not published.
 */
const RECORD_BYTES = 1_300;
/** `trail.retentionDays`, the default TTL bootstrap puts on the trail logstore. */
const RETENTION_DAYS = 180;
/** Management changes a day that the EventBridge filters select (ACLs, BPA, policies, AccessKeys). */
const MANAGEMENT_CHANGES_PER_DAY = 100;
/**
 * Share of data events that are uploads whose record shows no ACL, each re-checked with one GetObjectAcl
 * (`trail.recheckObjectWrites`, default on). 1 is the upper bound: every data event.
 */
const RECHECKED_SHARE = 1;
/** s.yaml sets no `cpu`; assumed 0.35 vCPU, fc3's schema default (deploy/fc3-schema.json), for every function. */
const VCPU = 0.35;
/** s.yaml memorySize: 256 MB for the guards and trail-guard, 512 MB for the sweeper. */
const GUARD_GB = 0.25;
const SWEEPER_GB = 0.5;
/** trail-guard: wall time per invocation besides its records (cursor, PullLogs round trips). */
const TRAIL_INVOCATION_S = 0.1;
/** trail-guard: wall time per record read and routed (BENCHMARKS.md §6: 100,000 records read and sorted in 8.2 s). */
const TRAIL_S_PER_RECORD = 0.0001;
/** One OSS round trip from FC, done one after another (a GetObjectAcl re-check, an audit-record look-up). */
const OSS_ROUND_TRIP_S = 0.01;
/** A fast-path guard's invocation for one change: re-read, act, audit, alert (BENCHMARKS.md §1-2, rounded up). */
const CHANGE_S = 0.3;
/** s.yaml: the sweeper's timer fires hourly. */
const SWEEPS_PER_DAY = 24;
/** The sweeper reads each bucket's ACL and policy (BENCHMARKS.md §4), listing 1,000 buckets a page. */
const SWEEP_READS_PER_BUCKET = 2;
const LIST_PAGE_SIZE = 1_000;
/** Sweeper wall time: start-up plus time per bucket (BENCHMARKS.md §4: 10,000 buckets in 7.7-9.3 s). */
const SWEEP_BASE_S = 1;
const SWEEP_S_PER_BUCKET = 0.0009;

// ---------------------------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------------------------

interface FunctionUse {
  invocations: number;
  seconds: number;
  gb: number;
}

const cu = (use: FunctionUse): number =>
  use.invocations * FC_CU_PER_INVOCATION +
  use.seconds * VCPU * FC_CU_PER_VCPU_SECOND +
  use.seconds * use.gb * FC_CU_PER_GB_SECOND;

/** The month's CU priced tier by tier. */
function fcUsd(totalCu: number): number {
  let usd = 0;
  let floor = 0;
  for (const tier of FC_CU_TIERS) {
    const inTier = Math.max(0, Math.min(totalCu, tier.upToCu) - floor);
    usd += inTier * tier.usdPerCu;
    floor = tier.upToCu;
  }
  return usd;
}

/**
 * Intervals in which a shard receives at least one record, with records spread evenly over the shards and
 * arriving at random (Poisson): S × 86,400/I × (1 − e^(−N·I/(S·86,400))) a day, never more than S × 86,400/I.
 */
function trailInvocationsPerDay(eventsPerDay: number): number {
  const intervals = SECONDS_PER_DAY / TRIGGER_INTERVAL_S;
  const perShardPerInterval = eventsPerDay / TRAIL_SHARDS / intervals;
  return TRAIL_SHARDS * intervals * (1 - Math.exp(-perShardPerInterval));
}

interface Scenario {
  buckets: number;
  eventsPerDay: number;
}

interface Costs {
  trailGuard: FunctionUse;
  fastPath: FunctionUse;
  sweeper: FunctionUse;
  fcCu: number;
  fcUsd: number;
  eventBridgeEvents: number;
  ossGets: number;
  ossPuts: number;
  slsIngestedGb: number;
  slsStoredGb: number;
  dataEvents: number;
}

export function monthlyCosts({ buckets, eventsPerDay }: Scenario): Costs {
  const m = DAYS_PER_MONTH;
  const changes = MANAGEMENT_CHANGES_PER_DAY;
  const rechecks = eventsPerDay * RECHECKED_SHARE;
  const trailInvocations = trailInvocationsPerDay(eventsPerDay);
  // trail-guard sees every change too, finds its audit record and stops (a duplicate): one OSS read each.
  const trailGuard: FunctionUse = {
    invocations: m * trailInvocations,
    seconds:
      m *
      (trailInvocations * TRAIL_INVOCATION_S +
        eventsPerDay * TRAIL_S_PER_RECORD +
        (rechecks + changes) * OSS_ROUND_TRIP_S),
    gb: GUARD_GB,
  };
  const fastPath: FunctionUse = { invocations: m * changes, seconds: m * changes * CHANGE_S, gb: GUARD_GB };
  const sweeper: FunctionUse = {
    invocations: m * SWEEPS_PER_DAY,
    seconds: m * SWEEPS_PER_DAY * (SWEEP_BASE_S + buckets * SWEEP_S_PER_BUCKET),
    gb: SWEEPER_GB,
  };
  const fcCu = cu(trailGuard) + cu(fastPath) + cu(sweeper);
  const sweepGets = SWEEPS_PER_DAY * (buckets * SWEEP_READS_PER_BUCKET + Math.ceil(buckets / LIST_PAGE_SIZE));
  return {
    trailGuard,
    fastPath,
    sweeper,
    fcCu,
    fcUsd: fcUsd(fcCu),
    eventBridgeEvents: m * changes,
    ossGets: m * (rechecks + changes + sweepGets),
    ossPuts: m * changes, // one audit record per decision
    slsIngestedGb: (m * eventsPerDay * RECORD_BYTES) / BYTES_PER_GB,
    // Steady state: what the TTL keeps beyond the included days, raw size (billed: compressed data + indexes).
    slsStoredGb:
      (eventsPerDay * RECORD_BYTES * Math.max(0, RETENTION_DAYS - SLS_INCLUDED_STORAGE_DAYS)) / BYTES_PER_GB,
    dataEvents: m * eventsPerDay,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------------------

const UNPRICED = '—';
const usd = (value: number): string => `$${value < 10 ? value.toFixed(2) : value.toFixed(0)}`;
const count = (value: number): string =>
  value >= 1e6
    ? `${+(value / 1e6).toPrecision(3)} M`
    : value >= 1e3
      ? `${+(value / 1e3).toPrecision(3)} k`
      : `${Math.round(value)}`;
const gb = (value: number): string => `${+value.toPrecision(3)} GB`;
/** A row label, marked when its price is one no page confirms. */
const label = (text: string, price: number | null, fact: string): string =>
  price === null ? `${text}, price **unverified** (${fact})` : `${text} (${fact})`;
const priced = (quantity: string, price: number | null, amount: number): string =>
  price === null ? `${quantity}: ${UNPRICED}` : `${quantity}: ${usd(amount * price)}`;

export function table(): string {
  const scenarios: Scenario[] = BUCKET_COUNTS.flatMap((buckets) =>
    EVENTS_PER_DAY.map((eventsPerDay) => ({ buckets, eventsPerDay })),
  );
  const costs = scenarios.map(monthlyCosts);
  const fcRow = (pick: (c: Costs) => FunctionUse) =>
    costs.map((c) => `${count(pick(c).invocations)} inv.: ${usd(fcUsd(cu(pick(c))))}`);
  const missing = [
    OSS_USD_PER_10K_GET,
    OSS_USD_PER_10K_PUT,
    SLS_USD_PER_GB_INGESTED,
    SLS_USD_PER_GB_MONTH_STORED,
    ACTIONTRAIL_USD_PER_DATA_EVENT,
  ].some((price) => price === null);
  const total = (c: Costs): number =>
    c.fcUsd +
    c.eventBridgeEvents * EVENTBRIDGE_USD_PER_EVENT +
    (c.ossGets / 10_000) * (OSS_USD_PER_10K_GET ?? 0) +
    (c.ossPuts / 10_000) * (OSS_USD_PER_10K_PUT ?? 0) +
    c.slsIngestedGb * (SLS_USD_PER_GB_INGESTED ?? 0) +
    c.slsStoredGb * (SLS_USD_PER_GB_MONTH_STORED ?? 0) +
    c.dataEvents * (ACTIONTRAIL_USD_PER_DATA_EVENT ?? 0);
  const rows: [string, string[]][] = [
    ['FC `trail-guard` (F-PRICE-FC-CU, F-PRICE-FC-CU-FACTORS)', fcRow((c) => c.trailGuard)],
    ['FC fast-path guards', fcRow((c) => c.fastPath)],
    ['FC `oss-sweeper`', fcRow((c) => c.sweeper)],
    ['**FC**', costs.map((c) => `**${usd(c.fcUsd)}**`)],
    [
      'EventBridge (F-PRICE-EVENTBRIDGE-SYSTEM-BUS)',
      costs.map(
        (c) =>
          `${count(c.eventBridgeEvents)} events: ${usd(c.eventBridgeEvents * EVENTBRIDGE_USD_PER_EVENT)}`,
      ),
    ],
    [
      label('OSS GET requests', OSS_USD_PER_10K_GET, 'F-PRICE-OSS-REQUESTS'),
      costs.map((c) => priced(count(c.ossGets), OSS_USD_PER_10K_GET, c.ossGets / 10_000)),
    ],
    [
      label('OSS PUT requests', OSS_USD_PER_10K_PUT, 'F-PRICE-OSS-REQUESTS'),
      costs.map((c) => priced(count(c.ossPuts), OSS_USD_PER_10K_PUT, c.ossPuts / 10_000)),
    ],
    [
      label('SLS ingest', SLS_USD_PER_GB_INGESTED, 'F-PRICE-SLS-INGEST'),
      costs.map((c) => priced(gb(c.slsIngestedGb), SLS_USD_PER_GB_INGESTED, c.slsIngestedGb)),
    ],
    [
      label(
        `SLS storage, days ${SLS_INCLUDED_STORAGE_DAYS + 1}-${RETENTION_DAYS}`,
        SLS_USD_PER_GB_MONTH_STORED,
        'F-PRICE-SLS-STORAGE',
      ),
      costs.map((c) => priced(gb(c.slsStoredGb), SLS_USD_PER_GB_MONTH_STORED, c.slsStoredGb)),
    ],
    [
      label('ActionTrail data events', ACTIONTRAIL_USD_PER_DATA_EVENT, 'F-PRICE-ACTIONTRAIL-DATA-EVENTS'),
      costs.map((c) => priced(count(c.dataEvents), ACTIONTRAIL_USD_PER_DATA_EVENT, c.dataEvents)),
    ],
    ['**Total**', costs.map((c) => (missing ? UNPRICED : `**${usd(total(c))}**`))],
  ];
  const header = [
    'USD per month',
    ...scenarios.map((s) => `${count(s.buckets)} buckets, ${count(s.eventsPerDay)} events/day`),
  ];
  const body = [header, ...rows.map(([label, cells]) => [label, ...cells])];
  const widths = header.map((_, i) => Math.max(...body.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`;
  return [line(header), rule, ...body.slice(1).map(line)].join('\n');
}

if (process.argv[1]?.endsWith('costs.ts')) console.log(table());
