import type { CallLog } from './calllog';
import type { CloudCredentials } from './oss';
import { popCall } from './pop';
import { DEFAULT_RETRY, type RetryOptions } from './retry';
import { type RpcCall, rpcCaller } from './rpc-call';

/** Security Center's API version (F-SAS-LEAK-LIST). */
export const SAS_VERSION = '2018-12-03';
/** Security Center answers on one endpoint for the Chinese mainland (F-SAS-ENDPOINT). */
const SAS_ENDPOINT = 'tds.aliyuncs.com';
const SAS_REGION = 'cn-shanghai';
/** DescribeAccesskeyLeakList takes at most 100 a page (F-SAS-LEAK-LIST). */
const PAGE_SIZE = 100;

/** One Security Center call: the action and its request fields in, the JSON body out (F-SAS-LEAK-LIST). */
export type SasCall = RpcCall;

/**
 * Security Center through openapi-core's generic `callApi`: no `@alicloud/sas20181203` package is in the npm
 * registry (the other languages' SDKs send exactly these parameters).
 */
export function sasCaller(credentials: CloudCredentials, endpoint?: string): SasCall {
  return rpcCaller(credentials, { version: SAS_VERSION, host: SAS_ENDPOINT, region: SAS_REGION }, endpoint);
}

/** One AccessKey leak finding, as DescribeAccesskeyLeakList lists it (F-SAS-LEAK-LIST). */
export interface LeakFinding {
  id: number;
  accessKeyId: string;
  /** `master` (the account's own key) or `ram` (a RAM user's). */
  userType: string;
  /** `pending` or `dealed`. */
  status: string;
  /** `pending`, `manual`, `disable` or `add-whitelist`. */
  dealType: string;
  /** Where the key was found. */
  url: string;
  /** When Security Center first found it, epoch ms. */
  foundAt: number;
}

/** What DescribeAccessKeyLeakDetail adds (F-SAS-LEAK-DETAIL): whether the finding is whitelisted, and the source. */
export interface LeakDetail {
  whitelisted: boolean;
  /** Whether Security Center found the leaked secret still valid (`TokenValid` 1; 0 to be confirmed, 2 invalid). */
  tokenValid: 'valid' | 'invalid' | 'unconfirmed';
  /** When it was whitelisted, epoch ms, if it was. */
  whitelistedAt?: number;
  source: string;
  fileUrl: string;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const num = (value: unknown): number => (typeof value === 'number' ? value : Number(value ?? Number.NaN));

/** `TokenValid` (F-SAS-LEAK-DETAIL); anything else is taken as not yet confirmed. */
const TOKEN_VALID: Record<number, LeakDetail['tokenValid']> = { 1: 'valid', 2: 'invalid' };

/** The two leak calls with retries and the request-id log, paged. */
export class SasGateway {
  constructor(
    private readonly call: SasCall,
    private readonly retry: RetryOptions = DEFAULT_RETRY,
  ) {}

  /** Every finding Security Center found at or after `since` (epoch ms), whatever its handling status. */
  async leaks(since: number, log: CallLog): Promise<LeakFinding[]> {
    const found: LeakFinding[] = [];
    for (let page = 1; ; page++) {
      const { body } = await popCall('sas', 'DescribeAccesskeyLeakList', log, this.retry, async () => ({
        body: await this.call('DescribeAccesskeyLeakList', {
          StartTs: since,
          PageSize: PAGE_SIZE,
          CurrentPage: page,
        }),
      }));
      const list = Array.isArray(body.AccessKeyLeakList) ? body.AccessKeyLeakList : [];
      for (const raw of list as Array<Record<string, unknown>>) {
        found.push({
          id: num(raw.Id),
          accessKeyId: text(raw.AccesskeyId),
          userType: text(raw.UserType),
          status: text(raw.Status),
          dealType: text(raw.DealType),
          url: text(raw.Url),
          foundAt: num(raw.GmtModified),
        });
      }
      const total = num(body.TotalCount);
      if (list.length < PAGE_SIZE || !(found.length < total)) return found;
    }
  }

  async detail(id: number, log: CallLog): Promise<LeakDetail> {
    const { body } = await popCall('sas', 'DescribeAccessKeyLeakDetail', log, this.retry, async () => ({
      body: await this.call('DescribeAccessKeyLeakDetail', { Id: id }),
    }));
    const whitelistedAt = num(body.WhitelistTime);
    return {
      whitelisted: text(body.WhitelistStatus) === 'yes',
      tokenValid: TOKEN_VALID[num(body.TokenValid)] ?? 'unconfirmed',
      ...(Number.isFinite(whitelistedAt) && whitelistedAt > 0 ? { whitelistedAt } : {}),
      source: text(body.Source),
      fileUrl: text(body.GithubFileUrl),
    };
  }
}
