import { setTimeout as sleep } from 'node:timers/promises';
import { TRIGGER_LOG_LOGSTORE } from '../shared/deployment/names';
import {
  type DataEventSelector,
  type FeedSettings,
  ossDataEventSelectors,
  parseSelectors,
  parseSlsProjectArn,
  selectsOssWrites,
  slsProjectArn,
  TRIGGER_LOG_TTL_DAYS,
} from './feed';
import type { SlsAdmin } from './sls-admin';
import type { TrailApi, TrailInfo } from './trail-api';

/**
 * Bootstrap's half that creates the feed instead of assuming it: the SLS project, the trail (all regions,
 * all management events, logging), its OSS data-event selector, the TTL of the logstore ActionTrail creates,
 * and the trigger-log logstore. Each step reads first and changes only what differs (idempotent).
 */
export interface FeedStep {
  what: string;
  change: 'create' | 'update' | 'none';
  detail: string;
  apply?: () => Promise<unknown>;
}

export interface FeedClients {
  trail: TrailApi;
  sls: SlsAdmin;
  /** The account id for the project ARN; read lazily, since the first run may only learn it as it goes. */
  accountId: () => Promise<string>;
  /** How long to wait for the logstore ActionTrail creates before its TTL can be set. Default 60 s. */
  logstoreWaitMs?: number;
}

const step = (
  what: string,
  change: FeedStep['change'],
  detail: string,
  apply?: FeedStep['apply'],
): FeedStep => ({
  what,
  change,
  detail,
  ...(apply ? { apply } : {}),
});

/** What differs between a trail and the one ossguard needs; empty when it fits. */
export function trailDrift(trail: TrailInfo, feed: FeedSettings): string[] {
  const drift: string[] = [];
  if (trail.TrailRegion !== 'All') drift.push(`TrailRegion ${trail.TrailRegion ?? '?'} → All`);
  if (trail.EventRW !== 'All') drift.push(`EventRW ${trail.EventRW ?? '?'} → All`);
  const arn = parseSlsProjectArn(trail.SlsProjectArn);
  if (arn?.project !== feed.project || arn?.region !== feed.region) {
    drift.push(
      `SLS destination ${trail.SlsProjectArn || 'none'} → project ${feed.project} in ${feed.region}`,
    );
  }
  return drift;
}

/** The selectors to put: ossguard's OSS item replaces any other OSS item; other services' items stay. */
function wantedSelectors(current: readonly DataEventSelector[], reads: boolean): DataEventSelector[] {
  const others = current.filter((s) => s.ServiceName?.toLowerCase() !== 'oss');
  return [...others, ...ossDataEventSelectors(reads)];
}

async function waitForLogstore(sls: SlsAdmin, feed: FeedSettings, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await sls.getLogStore(feed.project, feed.logstore)) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `ActionTrail has not created logstore ${feed.logstore} in project ${feed.project} yet: run bootstrap again later`,
      );
    }
    await sleep(2_000);
  }
}

export async function planFeed(clients: FeedClients, feed: FeedSettings): Promise<FeedStep[]> {
  const { trail: api, sls } = clients;
  const where = `${feed.project} (${feed.region})`;
  const arn = async () => slsProjectArn(feed.region, await clients.accountId(), feed.project);
  const settings = async () => ({
    Name: feed.trailName,
    SlsProjectArn: await arn(),
    // Both explicit: the SDK says EventRW defaults to All, ROS says Write (F-ACTIONTRAIL-CREATETRAIL).
    TrailRegion: 'All',
    EventRW: 'All',
  });
  const steps: FeedStep[] = [];

  // The project must exist before CreateTrail names it (F-ACTIONTRAIL-CREATETRAIL), in the home region, where
  // the log-triggered function runs (F-FC-LOGTRIGGER-SAME-REGION).
  const project = await sls.getProject(feed.project);
  steps.push(
    project
      ? step(`SLS project ${where}`, 'none', 'exists')
      : step(`SLS project ${where}`, 'create', 'the trail writes here', () =>
          sls.createProject(
            feed.project,
            `ossguard: ActionTrail trail ${feed.trailName} and its log trigger`,
          ),
        ),
  );

  const trail = await api.describeTrail(feed.trailName);
  const trailWhat = `trail ${feed.trailName} (home ${feed.region})`;
  if (trail?.HomeRegion && trail.HomeRegion !== feed.region) {
    throw new Error(
      `trail ${feed.trailName} already exists with home region ${trail.HomeRegion}: set trail.region to it, or pick another trail.name`,
    );
  }
  if (trail && feed.organization && trail.IsOrganizationTrail !== true) {
    throw new Error(
      `trail ${feed.trailName} is a single-account trail, and an organization needs the directory's multi-account trail, which a trail cannot become (F-ORG-TRAIL): delete it, or set trail.name to a new trail`,
    );
  }
  if (!trail) {
    steps.push(
      step(
        trailWhat,
        'create',
        `${feed.organization ? 'every account of the resource directory, ' : ''}all regions, all management events, to logstore ${feed.logstore}`,
        async () =>
          api.createTrail({
            ...(await settings()),
            ...(feed.organization ? { IsOrganizationTrail: true } : {}),
          }),
      ),
    );
  } else {
    const drift = trailDrift(trail, feed);
    steps.push(
      drift.length === 0
        ? step(trailWhat, 'none', 'exists: all regions, all management events, writes to the project')
        : step(trailWhat, 'update', drift.join('; '), async () => api.updateTrail(await settings())),
    );
  }

  const logging = trail ? (await api.getTrailStatus(feed.trailName)).IsLogging === true : false;
  steps.push(
    logging
      ? step(`logging of trail ${feed.trailName}`, 'none', 'logging')
      : step(`logging of trail ${feed.trailName}`, trail ? 'update' : 'create', 'StartLogging', () =>
          api.startLogging(feed.trailName),
        ),
  );

  // OSS object writes are data events, recorded only when a selector asks for them (F-ACTIONTRAIL-DATA-EVENT-SELECTOR).
  const selector = trail ? await api.getDataEventSelector(feed.trailName) : undefined;
  const current = parseSelectors(selector?.DataEventSelectors);
  const kind = feed.ossReadEvents ? 'reads and writes' : 'writes';
  const wanted = JSON.stringify(wantedSelectors(current, feed.ossReadEvents));
  const exact =
    selector?.IsTrailAllRegion === true &&
    selectsOssWrites(current, feed.ossReadEvents) &&
    (feed.ossReadEvents ||
      !current.some((s) => s.ServiceName?.toLowerCase() === 'oss' && s.ReadWriteType === 'All'));
  const put = () => api.putDataEventSelector(feed.trailName, wanted, true);
  steps.push(
    exact
      ? step(`OSS data events of trail ${feed.trailName}`, 'none', `OSS ${kind} in all regions`)
      : step(
          `OSS data events of trail ${feed.trailName}`,
          selector ? 'update' : 'create',
          `OSS ${kind} in all regions (${wanted})`,
          put,
        ),
  );

  // ActionTrail keeps the trail logstore for ever unless told otherwise (F-SLS-TRAIL-LOGSTORE).
  const logstore = await sls.getLogStore(feed.project, feed.logstore);
  const ttlWhat = `retention of logstore ${feed.logstore}`;
  const setTtl = async () => {
    await waitForLogstore(sls, feed, clients.logstoreWaitMs ?? 60_000);
    await sls.updateLogStoreTtl(feed.project, feed.logstore, feed.retentionDays);
  };
  steps.push(
    !logstore
      ? step(ttlWhat, 'create', `${feed.retentionDays} days, once the trail has created the logstore`, setTtl)
      : logstore.ttl === feed.retentionDays
        ? step(ttlWhat, 'none', `${feed.retentionDays} days`)
        : step(ttlWhat, 'update', `${logstore.ttl ?? '?'} → ${feed.retentionDays} days`, setTtl),
  );

  // The log trigger's own run log; fc3 does not create it (F-FC-LOGTRIGGER-LOGCONFIG).
  const triggerLogs = await sls.getLogStore(feed.project, TRIGGER_LOG_LOGSTORE);
  steps.push(
    triggerLogs
      ? step(`logstore ${TRIGGER_LOG_LOGSTORE}`, 'none', 'exists')
      : step(
          `logstore ${TRIGGER_LOG_LOGSTORE}`,
          'create',
          `in ${feed.project}, ${TRIGGER_LOG_TTL_DAYS} days`,
          () => sls.createLogStore(feed.project, TRIGGER_LOG_LOGSTORE, TRIGGER_LOG_TTL_DAYS, 1),
        ),
  );
  return steps;
}
