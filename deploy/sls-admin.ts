import { isIP } from 'node:net';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Sls, * as $Sls from '@alicloud/sls20201230';
import type { CloudCredentials } from '../shared/clients/oss';

/**
 * The SLS management calls bootstrap and doctor make, through `@alicloud/sls20201230` (ROA, LOG signature
 * by `@alicloud/gateway-sls`): GetProject, CreateProject, GetLogStore, CreateLogStore, UpdateLogStore,
 * DeleteLogStore (paths and fields: F-SLS-MANAGEMENT-API). Each client is regional (`<region>.log.aliyuncs.com`):
 * a project lives in one region, and the project goes in the host (F-SLS-LOGSTORE-TTL).
 */
export interface ProjectInfo {
  projectName: string;
  region?: string;
}

export interface LogstoreInfo {
  logstoreName: string;
  /** Days; 3650 means permanent. */
  ttl?: number;
  shardCount?: number;
}

export interface SlsAdmin {
  getProject(project: string): Promise<ProjectInfo | undefined>;
  createProject(project: string, description: string): Promise<void>;
  getLogStore(project: string, logstore: string): Promise<LogstoreInfo | undefined>;
  createLogStore(project: string, logstore: string, ttl: number, shardCount: number): Promise<void>;
  updateLogStoreTtl(project: string, logstore: string, ttl: number): Promise<void>;
  deleteLogStore(project: string, logstore: string): Promise<void>;
}

/** The header that names the project to the local cloud when its endpoint is an address (see below). */
export const LOCAL_PROJECT_HEADER = 'x-ossguard-local-project';

type SdkClass = new (config: $OpenApiUtil.Config) => Sls;

interface ExecuteRequest {
  hostMap?: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * SLS names the project in the host (`<project>.<endpoint>`), which gateway-sls builds from `hostMap`. An
 * IP endpoint (the local cloud) cannot take a label, so there the project travels in a header instead;
 * against Alibaba Cloud the SDK runs unchanged.
 */
function sdkClient(config: $OpenApiUtil.Config, local: boolean): Sls {
  const imported = Sls as SdkClass & { default?: SdkClass };
  const Base = imported.default ?? imported;
  if (!local) return new Base(config);
  class LocalSls extends Base {
    override async execute(
      params: $OpenApiUtil.Params,
      request: $OpenApiUtil.OpenApiRequest,
      runtime: Parameters<Sls['execute']>[2],
    ): ReturnType<Sls['execute']> {
      const r = request as unknown as ExecuteRequest;
      const project = r.hostMap?.project;
      if (project) {
        r.headers = { ...(r.headers ?? {}), [LOCAL_PROJECT_HEADER]: project };
        r.hostMap = {};
      }
      return super.execute(params, request, runtime);
    }
  }
  return new LocalSls(config);
}

// ProjectNotExist / LogStoreNotExist mean "missing" (F-SLS-ERROR-CODES).
const codeOf = (error: unknown): string | undefined => (error as { code?: string }).code;

async function unless<T>(read: Promise<T>, missing: string[]): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (missing.includes(codeOf(error) ?? '')) return undefined;
    throw error;
  }
}

export function createSlsAdmin(credentials: CloudCredentials, region: string, endpoint?: string): SlsAdmin {
  const url = endpoint ? new URL(endpoint) : undefined;
  const host = url?.host ?? `${region}.log.aliyuncs.com`;
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const local = isIP(name) !== 0 || name === 'localhost';
  const client = sdkClient(
    new $OpenApiUtil.Config({
      accessKeyId: credentials.accessKeyId,
      accessKeySecret: credentials.accessKeySecret,
      ...(credentials.securityToken ? { securityToken: credentials.securityToken } : {}),
      endpoint: host,
      regionId: region,
      protocol: url ? url.protocol.replace(':', '') : 'https',
      readTimeout: 10_000,
      connectTimeout: 5_000,
    }),
    local,
  );
  return {
    async getProject(project) {
      const response = await unless(client.getProject(project), ['ProjectNotExist']);
      const body = response?.body;
      return body
        ? { projectName: body.projectName ?? project, ...(body.region ? { region: body.region } : {}) }
        : undefined;
    },
    async createProject(project, description) {
      await client.createProject(new $Sls.CreateProjectRequest({ projectName: project, description }));
    },
    async getLogStore(project, logstore) {
      const response = await unless(client.getLogStore(project, logstore), [
        'LogStoreNotExist',
        'ProjectNotExist',
      ]);
      const body = response?.body;
      return body
        ? {
            logstoreName: body.logstoreName ?? logstore,
            ...(body.ttl === undefined ? {} : { ttl: body.ttl }),
            ...(body.shardCount === undefined ? {} : { shardCount: body.shardCount }),
          }
        : undefined;
    },
    async createLogStore(project, logstore, ttl, shardCount) {
      await client.createLogStore(
        project,
        new $Sls.CreateLogStoreRequest({ logstoreName: logstore, ttl, shardCount }),
      );
    },
    async updateLogStoreTtl(project, logstore, ttl) {
      // logstoreName and ttl are the required fields; the shard count cannot change here (F-SLS-LOGSTORE-TTL).
      await client.updateLogStore(
        project,
        logstore,
        new $Sls.UpdateLogStoreRequest({ logstoreName: logstore, ttl }),
      );
    },
    async deleteLogStore(project, logstore) {
      await client.deleteLogStore(project, logstore);
    },
  };
}
