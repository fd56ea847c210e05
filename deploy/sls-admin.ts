import { $OpenApiUtil } from '@alicloud/openapi-core';
import * as $Sls from '@alicloud/sls20201230';
import type { CloudCredentials } from '../shared/clients/oss';
import { isAddressHost, sdkClient } from '../shared/clients/sls';

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
  const local = isAddressHost(host);
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
