import type { EmittedRecord } from '../../shared/events/actiontrail-event';
import { AcsError, invalidParameter, missingParameter } from '../acs/errors';
import type { PopCall } from '../acs/server';
import { recipientOf } from '../recipient';

/**
 * ActionTrail's trail operations (2020-07-06) over a local trail catalog: CreateTrail, UpdateTrail,
 * DeleteTrail, DescribeTrails, GetTrailStatus, StartLogging, StopLogging and Put/Get/DeleteDataEventSelector.
 * Field names are the SDK models' (aliyun/alibabacloud-typescript-sdk `actiontrail-20200706/src/models`).
 *
 * The catalog also decides what the local trail delivers: `destinations` names the logstores a record goes
 * to, so a trail that is not logging, or whose data-event selector does not take a record, writes nothing.
 */

/** A data-event selector item (PutDataEventSelector `EventSelectors`, F-ACTIONTRAIL-DATA-EVENT-SELECTOR). */
interface Selector {
  ServiceName?: string;
  ReadWriteType?: string;
  EventName?: { Equals?: string[]; NotEquals?: string[] };
  ResourceArn?: { Equals?: string[]; NotEquals?: string[] };
}

export interface LocalTrail {
  name: string;
  /** A multi-account trail: it delivers the events of every account of the Resource Directory (F-ORG-TRAIL). */
  isOrganizationTrail: boolean;
  homeRegion: string;
  trailRegion: string;
  eventRW: string;
  slsProjectArn?: string;
  slsWriteRoleArn?: string;
  status: 'Fresh' | 'Enable' | 'Disable';
  createTime: string;
  updateTime: string;
  startLoggingTime?: string;
  stopLoggingTime?: string;
  selectors?: { text: string; items: Selector[]; isTrailAllRegion: boolean; regionIds: string[] };
}

/** What the trail API needs of the local SLS: a destination project must exist before a trail names it. */
export interface TrailSlsSide {
  region: string;
  hasProject(project: string): boolean;
  /** Creates the trail's dedicated logstore (permanent retention) if it is missing. */
  createTrailLogstore(project: string, logstore: string): void;
}

/** The Resource Directory a management account's catalog delivers for (F-ORG-TRAIL). */
export interface TrailOrganization {
  resourceDirectoryId: string;
  managementAccountId: string;
  /** Every account of the directory, the management account included. */
  accountIds: () => readonly string[];
}

// UNVERIFIED (F-ACTIONTRAIL-TRAIL-STATUS): ActionTrail's error codes and statuses here; descriptive stand-ins.
// UNVERIFIED (F-ORG-TRAIL): the codes for a multi-account trail asked by a member, and for a second one.
const NOT_MANAGEMENT_ACCOUNT = {
  status: 403,
  code: 'NoPermission',
  message:
    'Only the management account of a resource directory or a delegated administrator can create a multi-account trail.',
};
const ORGANIZATION_TRAIL_EXISTS = {
  status: 400,
  code: 'TrailAlreadyExistsException',
  message: 'A resource directory can have one multi-account trail.',
};
const TRAIL_NOT_FOUND = { status: 404, code: 'TrailNotFoundException', message: 'The trail does not exist.' };
const TRAIL_EXISTS = {
  status: 400,
  code: 'TrailAlreadyExistsException',
  message: 'The trail already exists.',
};
const SLS_PROJECT_MISSING = {
  status: 400,
  code: 'InvalidSlsProjectArn',
  message: 'The SLS project does not exist in the region the ARN names.',
};

/** CreateTrail's Name rule (F-ACTIONTRAIL-CREATETRAIL). */
const NAME = /^[a-z][a-z0-9_-]{5,35}$/;
const iso = (): string => `${new Date().toISOString().slice(0, 19)}Z`;
const SLS_ARN = /^acs:log:([^:]+):[^:]*:project\/([^/]+)$/;

const TRAIL_ACTIONS: ReadonlySet<string> = new Set([
  'CreateTrail',
  'UpdateTrail',
  'DeleteTrail',
  'DescribeTrails',
  'GetTrailStatus',
  'StartLogging',
  'StopLogging',
  'PutDataEventSelector',
  'GetDataEventSelector',
  'DeleteDataEventSelector',
]);

export class TrailCatalog {
  readonly trails = new Map<string, LocalTrail>();

  constructor(
    private readonly sls: TrailSlsSide,
    private readonly accountId: string,
    /** Set for the Resource Directory's management account: its catalog may hold a multi-account trail. */
    private readonly organization?: TrailOrganization,
  ) {}

  /** Whether an action is one of the trail actions below. */
  static handles(action: string): boolean {
    return TRAIL_ACTIONS.has(action);
  }

  /** The handler for an action, if it is a trail action. */
  handler(action: string): ((call: PopCall) => Record<string, unknown>) | undefined {
    const handlers: Record<string, (call: PopCall) => Record<string, unknown>> = {
      CreateTrail: (call) => this.create(call.params),
      UpdateTrail: (call) => this.update(call.params),
      DeleteTrail: (call) => {
        this.trail(call.params.Name);
        this.trails.delete(call.params.Name ?? '');
        return {};
      },
      DescribeTrails: (call) => this.describe(call.params),
      GetTrailStatus: (call) => this.status(this.trail(call.params.Name)),
      StartLogging: (call) => this.setLogging(this.trail(call.params.Name), true),
      StopLogging: (call) => this.setLogging(this.trail(call.params.Name), false),
      PutDataEventSelector: (call) => this.putSelector(call.params),
      GetDataEventSelector: (call) => this.getSelector(this.trail(call.params.TrailName)),
      DeleteDataEventSelector: (call) => {
        delete this.trail(call.params.TrailName).selectors;
        return {};
      },
    };
    return handlers[action];
  }

  /**
   * Creates a trail directly, as if CreateTrail (+ StartLogging + PutDataEventSelector) had run: the local
   * cloud's provisioned default.
   */
  provision(input: {
    name: string;
    project: string;
    selectors: string;
    logging: boolean;
    isOrganizationTrail?: boolean;
  }): LocalTrail {
    this.create({
      Name: input.name,
      SlsProjectArn: `acs:log:${this.sls.region}:${this.accountId}:project/${input.project}`,
      TrailRegion: 'All',
      EventRW: 'All',
      ...(input.isOrganizationTrail ? { IsOrganizationTrail: 'true' } : {}),
    });
    const trail = this.trail(input.name);
    if (input.logging) this.setLogging(trail, true);
    this.putSelector({ TrailName: input.name, EventSelectors: input.selectors, IsTrailAllRegion: 'true' });
    return trail;
  }

  /**
   * The logstores a record reaches: those of the trails that are logging, cover its region, and (for data
   * events) whose selector takes it. Management events follow `EventRW`.
   */
  destinations(record: EmittedRecord): Array<{ project: string; logstore: string; trail: string }> {
    const out: Array<{ project: string; logstore: string; trail: string }> = [];
    // A trail records its own account's events, a multi-account trail those of every account of the
    // directory (F-ORG-TRAIL-RECIPIENT, F-ORG-TRAIL).
    const recipient = recipientOf(record);
    const own = recipient === this.accountId;
    const inDirectory = this.organization?.accountIds().includes(recipient) ?? false;
    for (const trail of this.trails.values()) {
      if (!own && !(trail.isOrganizationTrail && inDirectory)) continue;
      if (trail.status !== 'Enable') continue;
      const arn = SLS_ARN.exec(trail.slsProjectArn ?? '');
      if (!arn?.[2] || arn[1] !== this.sls.region) continue;
      if (trail.trailRegion !== 'All' && trail.trailRegion !== record.acsRegion && !record.isGlobal) continue;
      const takes =
        record.eventCategory === 'Data'
          ? this.selects(trail, record)
          : trail.eventRW === 'All' || trail.eventRW === record.eventRW;
      if (takes) out.push({ project: arn[2], logstore: `actiontrail_${trail.name}`, trail: trail.name });
    }
    return out;
  }

  private selects(trail: LocalTrail, record: EmittedRecord): boolean {
    const selectors = trail.selectors;
    if (!selectors) return false;
    if (!selectors.isTrailAllRegion && !selectors.regionIds.includes(record.acsRegion)) return false;
    return selectors.items.some((s) => {
      if ((s.ServiceName ?? '').toLowerCase() !== record.serviceName.toLowerCase()) return false;
      if (s.ReadWriteType !== 'All' && s.ReadWriteType !== record.eventRW) return false;
      const names = s.EventName;
      if (names?.Equals && !names.Equals.includes(record.eventName)) return false;
      if (names?.NotEquals?.includes(record.eventName)) return false;
      return true;
    });
  }

  private trail(name: string | undefined): LocalTrail {
    if (!name) throw missingParameter('Name');
    const trail = this.trails.get(name);
    if (!trail) throw new AcsError(TRAIL_NOT_FOUND, name);
    return trail;
  }

  private destination(params: Readonly<Record<string, string>>): string {
    const arn = params.SlsProjectArn;
    if (!arn) throw invalidParameter('SlsProjectArn', 'the local trail delivers only to SLS');
    const match = SLS_ARN.exec(arn);
    if (!match?.[2])
      throw invalidParameter('SlsProjectArn', 'expected acs:log:<region>:<uid>:project/<name>');
    // The project must exist first (F-ACTIONTRAIL-CREATETRAIL); the local SLS serves one region.
    if (match[1] !== this.sls.region || !this.sls.hasProject(match[2])) {
      throw new AcsError(SLS_PROJECT_MISSING, arn);
    }
    // ActionTrail creates the dedicated logstore actiontrail_<trail> itself (F-SLS-TRAIL-LOGSTORE).
    this.sls.createTrailLogstore(match[2], `actiontrail_${params.Name}`);
    return arn;
  }

  private create(params: Readonly<Record<string, string>>): Record<string, unknown> {
    const name = params.Name;
    if (!name) throw missingParameter('Name');
    if (!NAME.test(name)) throw invalidParameter('Name', '6-36 of a-z, 0-9, _ and -, starting with a letter');
    if (this.trails.has(name)) throw new AcsError(TRAIL_EXISTS, name);
    const isOrganizationTrail = params.IsOrganizationTrail === 'true';
    if (isOrganizationTrail) {
      if (this.organization?.managementAccountId !== this.accountId)
        throw new AcsError(NOT_MANAGEMENT_ACCOUNT);
      if ([...this.trails.values()].some((t) => t.isOrganizationTrail)) {
        throw new AcsError(ORGANIZATION_TRAIL_EXISTS, name);
      }
    }
    const arn = this.destination(params);
    const now = iso();
    const trail: LocalTrail = {
      name,
      isOrganizationTrail,
      homeRegion: this.sls.region,
      // Both default to All in the SDK model; ROS says EventRW defaults to Write, so callers pass both.
      trailRegion: params.TrailRegion || 'All',
      eventRW: params.EventRW || 'All',
      slsProjectArn: arn,
      ...(params.SlsWriteRoleArn ? { slsWriteRoleArn: params.SlsWriteRoleArn } : {}),
      status: 'Fresh',
      createTime: now,
      updateTime: now,
    };
    this.trails.set(name, trail);
    return { ...this.render(trail) };
  }

  private update(params: Readonly<Record<string, string>>): Record<string, unknown> {
    const trail = this.trail(params.Name);
    if (params.SlsProjectArn && params.SlsProjectArn !== trail.slsProjectArn) {
      trail.slsProjectArn = this.destination(params);
    }
    if (params.TrailRegion) trail.trailRegion = params.TrailRegion;
    if (params.EventRW) trail.eventRW = params.EventRW;
    trail.updateTime = iso();
    return { ...this.render(trail) };
  }

  private describe(params: Readonly<Record<string, string>>): Record<string, unknown> {
    const names = (params.NameList ?? '').split(',').filter(Boolean);
    // Multi-account trails are listed only with IncludeOrganizationTrail=true (F-ORG-TRAIL).
    const withOrganization = params.IncludeOrganizationTrail === 'true';
    const trails = [...this.trails.values()].filter(
      (t) => (names.length === 0 || names.includes(t.name)) && (withOrganization || !t.isOrganizationTrail),
    );
    return { TrailList: trails.map((t) => this.render(t)) };
  }

  private render(trail: LocalTrail): Record<string, unknown> {
    return {
      Name: trail.name,
      HomeRegion: trail.homeRegion,
      Region: trail.homeRegion,
      TrailRegion: trail.trailRegion,
      EventRW: trail.eventRW,
      SlsProjectArn: trail.slsProjectArn ?? '',
      SlsWriteRoleArn: trail.slsWriteRoleArn ?? '',
      Status: trail.status,
      // UNVERIFIED (F-ACTIONTRAIL-TRAIL-STATUS): the TrailArn format.
      TrailArn: `acs:actiontrail:${trail.homeRegion}:${this.accountId}:trail/${trail.name}`,
      IsOrganizationTrail: trail.isOrganizationTrail,
      ...(trail.isOrganizationTrail && this.organization
        ? { OrganizationId: this.organization.resourceDirectoryId }
        : {}),
      CreateTime: trail.createTime,
      UpdateTime: trail.updateTime,
      ...(trail.startLoggingTime ? { StartLoggingTime: trail.startLoggingTime } : {}),
      ...(trail.stopLoggingTime ? { StopLoggingTime: trail.stopLoggingTime } : {}),
    };
  }

  private status(trail: LocalTrail): Record<string, unknown> {
    return {
      IsLogging: trail.status === 'Enable',
      SlsLogStoreStatus: true,
      ...(trail.startLoggingTime ? { StartLoggingTime: trail.startLoggingTime } : {}),
      ...(trail.stopLoggingTime ? { StopLoggingTime: trail.stopLoggingTime } : {}),
    };
  }

  /** Stops every trail that is logging (StopLogging); the function returned starts them again. */
  suspendLogging(): () => void {
    const stopped = [...this.trails.values()].filter((trail) => trail.status === 'Enable');
    for (const trail of stopped) this.setLogging(trail, false);
    return () => {
      for (const trail of stopped) this.setLogging(trail, true);
    };
  }

  private setLogging(trail: LocalTrail, on: boolean): Record<string, unknown> {
    trail.status = on ? 'Enable' : 'Disable';
    if (on) trail.startLoggingTime = iso();
    else trail.stopLoggingTime = iso();
    return {};
  }

  private putSelector(params: Readonly<Record<string, string>>): Record<string, unknown> {
    const trail = this.trail(params.TrailName);
    const text = params.EventSelectors;
    if (!text) throw missingParameter('EventSelectors');
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch {
      throw invalidParameter('EventSelectors', 'not a JSON array');
    }
    if (!Array.isArray(items) || items.length === 0 || items.length > 20) {
      throw invalidParameter('EventSelectors', 'a JSON array of 1 to 20 selectors');
    }
    const isTrailAllRegion = params.IsTrailAllRegion === 'true';
    const regionIds = (params.TrailRegionIds ?? '').split(',').filter(Boolean);
    // "TrailRegionIds is required if you do not specify IsTrailAllRegion or set it to false".
    if (!isTrailAllRegion && regionIds.length === 0) throw missingParameter('TrailRegionIds');
    trail.selectors = { text, items: items as Selector[], isTrailAllRegion, regionIds };
    return {};
  }

  private getSelector(trail: LocalTrail): Record<string, unknown> {
    const arn = `acs:actiontrail:${trail.homeRegion}:${this.accountId}:trail/${trail.name}`;
    // UNVERIFIED: what the API answers for a trail without a selector; here, no DataEventSelectors field.
    if (!trail.selectors) return { TrailArn: arn };
    return {
      TrailArn: arn,
      DataEventSelectors: trail.selectors.text,
      IsTrailAllRegion: trail.selectors.isTrailAllRegion,
      SlsDeliveryConfigs: [],
    };
  }
}
