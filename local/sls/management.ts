import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Caller, type IdentityStore, newRequestId } from '../identity';
import { SLS_ERRORS, SlsError, slsErrorSpec } from './errors';
import { parseAuthorization, signLog, stringToSign } from './signature';
import type { SlsStore } from './store';

/**
 * The SLS management operations bootstrap and doctor call (@alicloud/sls20201230, ROA, LOG signature;
 * paths, fields and RAM actions in F-SLS-MANAGEMENT-API):
 * CreateProject, GetProject, CreateLogStore, GetLogStore, UpdateLogStore and DeleteLogStore, over the same
 * store PullLogs reads. A logstore's TTL lives here; 3650 days means permanent, which is what ActionTrail gives
 * the trail logstore it creates (F-SLS-TRAIL-LOGSTORE, F-SLS-LOGSTORE-TTL).
 *
 * SLS names the project in the host (`<project>.<region>.log.aliyuncs.com`). The local endpoint is an IP
 * address, so ossguard's client (deploy/sls-admin.ts) sends the project in `x-ossguard-local-project` instead.
 */

export const PERMANENT_TTL = 3650;
export const LOCAL_PROJECT_HEADER = 'x-ossguard-local-project';
const MAX_SKEW_MS = 15 * 60_000;

// UNVERIFIED (F-SLS-MANAGEMENT-API): these codes, statuses and messages are the local SLS's own.
const ERRORS = {
  ProjectAlreadyExist: slsErrorSpec(400, 'ProjectAlreadyExist', 'The project already exists.'),
  LogStoreAlreadyExist: slsErrorSpec(400, 'LogStoreAlreadyExist', 'The logstore already exists.'),
  ProjectNotSpecified: slsErrorSpec(400, 'ParameterInvalid', 'The request names no project.'),
};

export interface LogstoreMeta {
  ttl: number;
  shardCount: number;
  createTime: number;
  lastModifyTime: number;
}

interface ProjectMeta {
  description: string;
  createTime: string;
}

export interface SlsManagementOptions {
  store: SlsStore;
  identities: IdentityStore;
  region: string;
  authorize?: (caller: Caller, action: string, resource: string) => boolean;
  now: () => Date;
  latencyMs?: number;
}

const MANAGEMENT_PATH = /^\/(?:logstores(?:\/[^/]+)?)?$/;

/** Whether a request is one of the management calls (PullLogs goes to `/logstores/<name>/shards/<id>`). */
export const isManagementRequest = (request: IncomingMessage): boolean =>
  MANAGEMENT_PATH.test((request.url ?? '/').split('?')[0] ?? '/');

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

export class SlsManagement {
  private readonly projects = new Map<string, ProjectMeta>();
  private readonly logstores = new Map<string, LogstoreMeta>();

  constructor(private readonly options: SlsManagementOptions) {}

  /** Creates a project directly (the local cloud's provisioned account). */
  createProject(project: string, description = ''): void {
    this.options.store.createProject(project);
    if (!this.projects.has(project)) {
      this.projects.set(project, { description, createTime: this.options.now().toISOString() });
    }
  }

  /** Creates a logstore directly, or leaves an existing one as it is. */
  createLogstore(project: string, logstore: string, ttl: number, shardCount = 1): void {
    this.createProject(project);
    if (this.options.store.hasLogstore(project, logstore)) return;
    this.options.store.createLogstore(project, logstore, shardCount);
    const now = seconds(this.options.now());
    this.logstores.set(`${project}/${logstore}`, { ttl, shardCount, createTime: now, lastModifyTime: now });
  }

  /** A logstore's attributes; one created straight in the store counts as permanent. */
  meta(project: string, logstore: string): LogstoreMeta | undefined {
    if (!this.options.store.hasLogstore(project, logstore)) return undefined;
    const now = seconds(this.options.now());
    return (
      this.logstores.get(`${project}/${logstore}`) ?? {
        ttl: PERMANENT_TTL,
        shardCount: 1,
        createTime: now,
        lastModifyTime: now,
      }
    );
  }

  setTtl(project: string, logstore: string, ttl: number): void {
    const meta = this.meta(project, logstore);
    if (!meta) throw new SlsError(SLS_ERRORS.LogStoreNotExist, logstore);
    this.logstores.set(`${project}/${logstore}`, {
      ...meta,
      ttl,
      lastModifyTime: seconds(this.options.now()),
    });
  }

  deleteLogstore(project: string, logstore: string): void {
    this.options.store.deleteLogstore(project, logstore);
    this.logstores.delete(`${project}/${logstore}`);
  }

  async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    let status = 200;
    let answer: Buffer = Buffer.alloc(0);
    try {
      const result = this.perform(request, body);
      if (result !== undefined) answer = Buffer.from(JSON.stringify(result));
    } catch (error) {
      const failure =
        error instanceof SlsError ? error : new SlsError(SLS_ERRORS.InternalServerError, String(error));
      status = failure.status;
      answer = Buffer.from(JSON.stringify({ errorCode: failure.code, errorMessage: failure.message }));
    }
    if (this.options.latencyMs) await sleep(this.options.latencyMs);
    response.writeHead(status, {
      'x-log-requestid': requestId, // F-SLS-COMMON-HEADERS
      'content-type': 'application/json',
      'content-length': String(answer.length),
    });
    response.end(answer);
  }

  private perform(request: IncomingMessage, body: Buffer): unknown {
    const url = new URL(request.url ?? '/', 'http://sls.local');
    const method = request.method ?? 'GET';
    const headers = flatHeaders(request);
    const caller = this.authenticate(method, url.pathname, headers, body);
    const json = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    const logstore = /^\/logstores\/([^/]+)$/.exec(url.pathname)?.[1];
    const named = logstore === undefined ? undefined : decodeURIComponent(logstore);

    if (url.pathname === '/' && method === 'POST') {
      const project = String(json.projectName ?? '');
      if (!/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(project)) {
        throw new SlsError(SLS_ERRORS.ParameterInvalid, `projectName ${project}`);
      }
      this.authorize(caller, 'log:CreateProject', project);
      if (this.options.store.hasProject(project)) throw new SlsError(ERRORS.ProjectAlreadyExist, project);
      this.createProject(project, String(json.description ?? ''));
      return undefined;
    }
    const project = this.projectOf(headers);
    if (url.pathname === '/' && method === 'GET') {
      this.authorize(caller, 'log:GetProject', project);
      const meta = this.project(project);
      return {
        projectName: project,
        description: meta.description,
        region: this.options.region,
        status: 'Normal',
        owner: this.options.identities.accountId,
        createTime: meta.createTime,
        lastModifyTime: meta.createTime,
      };
    }
    if (url.pathname === '/logstores' && method === 'POST') {
      const name = String(json.logstoreName ?? '');
      const ttl = Number(json.ttl);
      const shards = Number(json.shardCount ?? 2);
      if (!name) throw new SlsError(SLS_ERRORS.ParameterInvalid, 'logstoreName');
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > PERMANENT_TTL) {
        throw new SlsError(SLS_ERRORS.ParameterInvalid, `ttl ${json.ttl}`);
      }
      this.authorize(caller, 'log:CreateLogStore', project, name);
      this.project(project);
      if (this.options.store.hasLogstore(project, name))
        throw new SlsError(ERRORS.LogStoreAlreadyExist, name);
      this.createLogstore(project, name, ttl, Number.isInteger(shards) && shards > 0 ? shards : 2);
      return undefined;
    }
    if (named !== undefined) {
      this.project(project);
      if (method === 'GET') {
        this.authorize(caller, 'log:GetLogStore', project, named);
        const meta = this.meta(project, named);
        if (!meta) throw new SlsError(SLS_ERRORS.LogStoreNotExist, named);
        return { logstoreName: named, ...meta, mode: 'standard', telemetryType: 'None' };
      }
      if (method === 'PUT') {
        this.authorize(caller, 'log:UpdateLogStore', project, named);
        const ttl = Number(json.ttl);
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > PERMANENT_TTL) {
          throw new SlsError(SLS_ERRORS.ParameterInvalid, `ttl ${json.ttl}`);
        }
        this.setTtl(project, named, ttl);
        return undefined;
      }
      if (method === 'DELETE') {
        this.authorize(caller, 'log:DeleteLogStore', project, named);
        if (!this.meta(project, named)) throw new SlsError(SLS_ERRORS.LogStoreNotExist, named);
        this.deleteLogstore(project, named);
        return undefined;
      }
    }
    throw new SlsError(SLS_ERRORS.NotFound, `${method} ${url.pathname}`);
  }

  private project(project: string): ProjectMeta {
    if (!this.options.store.hasProject(project)) throw new SlsError(SLS_ERRORS.ProjectNotExist, project);
    const meta = this.projects.get(project) ?? {
      description: '',
      createTime: this.options.now().toISOString(),
    };
    this.projects.set(project, meta);
    return meta;
  }

  /** The host's first label for a named host; the local header for an address. */
  private projectOf(headers: Record<string, string>): string {
    const host = (headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    const bare = isIP(host) !== 0 || host === 'localhost' || !host.includes('.');
    const project = bare ? headers[LOCAL_PROJECT_HEADER] : host.split('.')[0];
    if (!project) throw new SlsError(ERRORS.ProjectNotSpecified);
    return project;
  }

  private authorize(caller: Caller, action: string, project: string, logstore?: string): void {
    const resource =
      `acs:log:${this.options.region}:${this.options.identities.accountId}:project/${project}` +
      (logstore ? `/logstore/${logstore}` : '');
    if (this.options.authorize && !this.options.authorize(caller, action, resource)) {
      throw new SlsError(
        SLS_ERRORS.Unauthorized,
        `denied by sts or ram, action: ${action}, resource: ${resource}`,
      );
    }
  }

  /** The LOG signature over method, content-md5 (upper-case hex MD5 of the body), type, date and x-log-/x-acs- headers. */
  private authenticate(method: string, path: string, headers: Record<string, string>, body: Buffer): Caller {
    const claim = parseAuthorization(headers.authorization);
    if (!claim)
      throw new SlsError(SLS_ERRORS.Unauthorized, 'the Authorization header is not LOG <id>:<signature>');
    const found = this.options.identities.lookup(claim.accessKeyId);
    if (found.kind !== 'ok') throw new SlsError(SLS_ERRORS.InvalidAccessKeyId, claim.accessKeyId);
    const token = this.options.identities.checkToken(
      found,
      headers['x-acs-security-token'],
      this.options.now(),
    );
    if (token === 'expired') throw new SlsError(SLS_ERRORS.SecurityTokenExpired);
    if (token !== 'ok') throw new SlsError(SLS_ERRORS.Unauthorized, `security token ${token}`);
    if (body.length > 0) {
      const md5 = createHash('md5').update(body).digest('hex').toUpperCase();
      if (headers['content-md5'] !== md5) throw new SlsError(SLS_ERRORS.SignatureNotMatch, 'content-md5');
    }
    const expected = signLog(stringToSign(method, path, [], headers), found.secret);
    if (expected !== claim.signature) throw new SlsError(SLS_ERRORS.SignatureNotMatch);
    const date = Date.parse(headers.date ?? '');
    if (!Number.isFinite(date) || Math.abs(date - this.options.now().getTime()) > MAX_SKEW_MS) {
      throw new SlsError(SLS_ERRORS.RequestTimeExpired, `date ${headers.date ?? '(none)'}`);
    }
    return found.caller;
  }
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}
