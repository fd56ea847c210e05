import { AcsError, invalidParameter, missingParameter } from '../acs/errors';
import { type PopCall, PopEmulator, type PopEmulatorOptions, type PopHandler } from '../acs/server';
import type { Caller, IdentityStore } from '../identity';

const VERSION = '2018-12-03';
/** DescribeAccesskeyLeakList pages default to 20 and are at most 100 (F-SAS-LEAK-LIST). */
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

/** What a test plants: a key Security Center "found" in public code. */
export interface PlantedLeak {
  accessKeyId: string;
  /** `ram` (a RAM user's key) or `master` (the account's own). */
  userType?: 'ram' | 'master';
  url?: string;
  /** Whitelisted in the console: the detail says `WhitelistStatus: yes`. */
  whitelisted?: boolean;
  /** When it was found; now unless given. */
  foundAt?: Date;
  /** The detail's `TokenValid` (F-SAS-LEAK-DETAIL): 0 to be confirmed, 1 valid (the default), 2 invalid. */
  tokenValid?: 0 | 1 | 2;
}

interface Finding {
  id: number;
  leak: Required<Omit<PlantedLeak, 'foundAt'>>;
  foundAt: number;
}

export interface SasEmulatorOptions extends PopEmulatorOptions {
  identities: IdentityStore;
  /** What RAM allows; the leak calls are authorised as their documented actions on `*` (F-SAS-LEAK-LIST). */
  authorize?: (caller: Caller, action: string, resource: string) => boolean;
}

/** The RAM action each call is authorised as: the pages name two different prefixes (F-SAS-LEAK-LIST, F-SAS-LEAK-DETAIL). */
const ACTIONS: Record<string, string> = {
  DescribeAccesskeyLeakList: 'yundun-aegis:DescribeAccesskeyLeakList',
  DescribeAccessKeyLeakDetail: 'yundun-sas:DescribeAccessKeyLeakDetail',
};

/** UNVERIFIED: the code and message of a denied Security Center call; the status follows RAM's NoPermission. */
const NO_PERMISSION = {
  status: 403,
  code: 'NoPermission',
  message: 'You are not authorized to do this action.',
};

const stamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * Security Center's AccessKey leak detection (Sas 2018-12-03): the list and the detail call, answered in the
 * documented shapes (F-SAS-LEAK-LIST, F-SAS-LEAK-DETAIL) over findings a test plants, behind the same
 * signature check as the other POP emulators.
 */
export class SasEmulator extends PopEmulator {
  private readonly findings: Finding[] = [];
  private nextId = 389_357;

  constructor(private readonly options: SasEmulatorOptions) {
    super({ versions: [VERSION], product: () => 'Sas', hostId: () => 'tds.aliyuncs.com' }, options);
  }

  protected route(_version: string, action: string): PopHandler | undefined {
    const handler = { DescribeAccesskeyLeakList: this.list, DescribeAccessKeyLeakDetail: this.detail }[
      action
    ];
    if (!handler) return undefined;
    return (call) => {
      const granted = this.options.authorize?.(call.caller, ACTIONS[action] ?? '', '*') ?? true;
      if (!granted) throw new AcsError(NO_PERMISSION, `Action: ${ACTIONS[action]}`);
      return handler(call);
    };
  }

  /** A finding, as Security Center would make one on seeing the key in a public commit; returns its id. */
  plant(leak: PlantedLeak): number {
    const id = this.nextId++;
    this.findings.push({
      id,
      foundAt: (leak.foundAt ?? new Date()).getTime(),
      leak: {
        accessKeyId: leak.accessKeyId,
        userType: leak.userType ?? 'ram',
        url: leak.url ?? `https://github.com/example/leaky/blob/0e466d2/config.py`,
        whitelisted: leak.whitelisted ?? false,
        tokenValid: leak.tokenValid ?? 1,
      },
    });
    return id;
  }

  /** Whitelists a finding, as the console's "add to whitelist" does. */
  whitelist(id: number): void {
    const finding = this.findings.find((f) => f.id === id);
    if (finding) finding.leak.whitelisted = true;
  }

  private readonly list = ({ params }: PopCall): Record<string, unknown> => {
    const size = Number(params.PageSize ?? DEFAULT_PAGE_SIZE);
    const page = Number(params.CurrentPage ?? 1);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
      throw invalidParameter('PageSize', `must be 1-${MAX_PAGE_SIZE}`);
    if (!Number.isInteger(page) || page < 1) throw invalidParameter('CurrentPage', 'must be 1 or more');
    const since = params.StartTs === undefined ? 0 : Number(params.StartTs);
    const matching = this.findings.filter(
      (f) =>
        f.foundAt >= since &&
        (params.Query === undefined || params.Query === f.leak.accessKeyId) &&
        (params.Status === undefined || params.Status === statusOf(f)),
    );
    return {
      CurrentPage: page,
      PageSize: size,
      TotalCount: matching.length,
      AkLeakCount: matching.filter((f) => statusOf(f) === 'pending').length,
      GmtLast: Math.max(0, ...this.findings.map((f) => f.foundAt)),
      AccessKeyLeakList: matching.slice((page - 1) * size, page * size).map((f) => ({
        Id: f.id,
        AccesskeyId: f.leak.accessKeyId,
        AliUserName: this.options.identities.accountId,
        Asset: 'Cloud platform',
        Type: 'AccessKey',
        Url: f.leak.url,
        UserType: f.leak.userType,
        Status: statusOf(f),
        DealType: f.leak.whitelisted ? 'add-whitelist' : 'pending',
        ...(f.leak.whitelisted ? { DealTime: stamp(f.foundAt) } : {}),
        GmtModified: f.foundAt,
      })),
    };
  };

  private readonly detail = ({ params }: PopCall): Record<string, unknown> => {
    if (params.Id === undefined) throw missingParameter('Id');
    const finding = this.findings.find((f) => String(f.id) === params.Id);
    // UNVERIFIED: what the service answers for an id it does not know.
    if (!finding) throw invalidParameter('Id', `no AccessKey leak ${params.Id}`);
    return {
      AccesskeyId: finding.leak.accessKeyId,
      Asset: 'Cloud Platform',
      Type: 'AccessKey',
      Source: 'GitHub',
      GithubFileUrl: finding.leak.url,
      GmtCreate: stamp(finding.foundAt),
      GmtModified: stamp(finding.foundAt),
      DealType: finding.leak.whitelisted ? 'add-whitelist' : 'pending',
      TokenValid: finding.leak.tokenValid,
      WhitelistStatus: finding.leak.whitelisted ? 'yes' : 'no',
      ...(finding.leak.whitelisted ? { WhitelistTime: finding.foundAt } : {}),
    };
  };
}

const statusOf = (f: Finding): 'pending' | 'dealed' => (f.leak.whitelisted ? 'dealed' : 'pending');
