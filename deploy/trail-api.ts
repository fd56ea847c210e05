import { actionTrailCaller } from '../shared/clients/actiontrail';
import type { CloudCredentials } from '../shared/clients/oss';

/**
 * The ActionTrail (2020-07-06) trail operations bootstrap and doctor call: CreateTrail, UpdateTrail,
 * DescribeTrails, GetTrailStatus, StartLogging, StopLogging, Put/Get/DeleteDataEventSelector. The per-product
 * SDK `@alicloud/actiontrail20200706` is not in the npm registry, so these go through openapi-core's generic
 * `callApi` with exactly the parameters the generated client sends (aliyun/alibabacloud-typescript-sdk
 * `actiontrail-20200706/src/client.ts`: RPC, POST, every field in the query, ACS3 signature;
 * F-ACTIONTRAIL-TRAIL-STATUS).
 */

/** A trail as DescribeTrails lists it (`TrailList[]`, DescribeTrailsResponseBody). */
export interface TrailInfo {
  Name: string;
  HomeRegion?: string;
  TrailRegion?: string;
  EventRW?: string;
  SlsProjectArn?: string;
  SlsWriteRoleArn?: string;
  /** `Enable`, `Disable` or `Fresh` (created, never started). */
  Status?: string;
  TrailArn?: string;
  /** A multi-account trail of the Resource Directory (F-ORG-TRAIL). */
  IsOrganizationTrail?: boolean;
}

export interface TrailStatus {
  IsLogging?: boolean;
  SlsLogStoreStatus?: boolean;
  LatestDeliveryLogServiceError?: string;
}

/** GetDataEventSelectorResponseBody: `DataEventSelectors` is the JSON text PutDataEventSelector took. */
export interface DataEventSelectorInfo {
  DataEventSelectors?: string;
  IsTrailAllRegion?: boolean;
  TrailArn?: string;
}

export interface TrailSettings {
  Name: string;
  SlsProjectArn: string;
  TrailRegion: string;
  EventRW: string;
  /** At creation only: a trail cannot become, or stop being, a multi-account one (F-ORG-TRAIL). */
  IsOrganizationTrail?: boolean;
}

export interface TrailApi {
  /** The trail with this name, or undefined. */
  describeTrail(name: string): Promise<TrailInfo | undefined>;
  createTrail(settings: TrailSettings): Promise<void>;
  updateTrail(settings: TrailSettings): Promise<void>;
  getTrailStatus(name: string): Promise<TrailStatus>;
  startLogging(name: string): Promise<void>;
  stopLogging(name: string): Promise<void>;
  /** The selector of a trail, or undefined when it has none. */
  getDataEventSelector(name: string): Promise<DataEventSelectorInfo | undefined>;
  putDataEventSelector(name: string, eventSelectors: string, isTrailAllRegion: boolean): Promise<void>;
  deleteDataEventSelector(name: string): Promise<void>;
}

/**
 * UNVERIFIED (F-ACTIONTRAIL-TRAIL-STATUS): the code GetDataEventSelector answers for a trail without a selector; any code naming a missing
 * selector counts as "none", and so does an answer whose DataEventSelectors is empty.
 */
const NO_SELECTOR = /NotExist|NotFound|NoSuch/i;

/**
 * A client for the trail API in `region`, which becomes the home region of any trail it creates. The
 * endpoint is regional (`actiontrail.<region>.aliyuncs.com`) unless overridden (the local cloud).
 */
export function createTrailApi(credentials: CloudCredentials, region: string, endpoint?: string): TrailApi {
  const call = actionTrailCaller(credentials, region, endpoint);
  const settingsQuery = (s: TrailSettings) => ({
    Name: s.Name,
    SlsProjectArn: s.SlsProjectArn,
    TrailRegion: s.TrailRegion,
    EventRW: s.EventRW,
  });
  return {
    async describeTrail(name) {
      // Multi-account trails are listed only when asked for (F-ORG-TRAIL).
      const body = await call('DescribeTrails', { NameList: name, IncludeOrganizationTrail: true });
      const list = Array.isArray(body.TrailList) ? (body.TrailList as TrailInfo[]) : [];
      return list.find((t) => t.Name === name);
    },
    async createTrail(settings) {
      // No SlsWriteRoleArn: without one ActionTrail delivers through its service-linked role
      // (F-ACTIONTRAIL-CREATETRAIL).
      await call('CreateTrail', {
        ...settingsQuery(settings),
        ...(settings.IsOrganizationTrail ? { IsOrganizationTrail: true } : {}),
      });
    },
    async updateTrail(settings) {
      await call('UpdateTrail', settingsQuery(settings));
    },
    async getTrailStatus(name) {
      return (await call('GetTrailStatus', { Name: name })) as TrailStatus;
    },
    async startLogging(name) {
      await call('StartLogging', { Name: name });
    },
    async stopLogging(name) {
      await call('StopLogging', { Name: name });
    },
    async getDataEventSelector(name) {
      try {
        const body = (await call('GetDataEventSelector', { TrailName: name })) as DataEventSelectorInfo;
        return body.DataEventSelectors ? body : undefined;
      } catch (error) {
        const code = (error as { code?: string; data?: { Code?: string } }).code;
        if (code && NO_SELECTOR.test(code)) return undefined;
        throw error;
      }
    },
    async putDataEventSelector(name, eventSelectors, isTrailAllRegion) {
      // IsTrailAllRegion defaults to false, which would need TrailRegionIds (F-ACTIONTRAIL-DATA-EVENT-SELECTOR).
      await call('PutDataEventSelector', {
        TrailName: name,
        EventSelectors: eventSelectors,
        IsTrailAllRegion: isTrailAllRegion,
      });
    },
    async deleteDataEventSelector(name) {
      await call('DeleteDataEventSelector', { TrailName: name });
    },
  };
}
