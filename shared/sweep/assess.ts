import { CallLog } from '../clients/calllog';
import { isNotFound, type OssClientFactory, OssGateway } from '../clients/oss';
import type { OssguardConfig } from '../config/schema';
import { describeError } from '../errors';
import { analyseBucketPolicy, judge } from '../guards/policy';
import { evaluateRules } from '../pipeline/evaluate';
import type { ModedFinding } from '../pipeline/types';
import { type AppliedException, evaluateExceptions, narrowException } from '../rule-exceptions';
import { aclRules, type BucketAcl } from '../rules';
import { atLeast } from '../severity';

export interface BucketRef {
  name: string;
  region: string;
}

/** A bucket some rule objects to, and what the guard that owns the rule would be asked to judge. */
export interface Exposure {
  bucket: string;
  region: string;
  /** Findings of the ACL guard's rules on the bucket ACL. */
  acl: ModedFinding[];
  /** Policy findings at or above `policy.failOn`, as the policy guard counts them. */
  policy: ModedFinding[];
  /** The state behind the findings. `blocked`: Block Public Access (bucket or account) makes OSS ignore public grants. */
  state: { acl: BucketAcl; policyPublic: boolean; blocked: boolean };
  excepted?: AppliedException;
}

export type Assessment =
  | { kind: 'compliant'; bucket: string }
  | { kind: 'exposed'; exposure: Exposure }
  | { kind: 'gone'; bucket: string }
  | { kind: 'failed'; bucket: string; error: string };

/**
 * The reads every bucket costs, all sent at once: the bucket ACL and policy. Only they decide findings;
 * policy status, Block Public Access and tags are read for exposed buckets alone (see `assess`).
 */
export const READS_PER_BUCKET = 2;

/**
 * Reads one bucket's ACL and policy and runs the guards' rules over them, without acting; for a bucket some
 * rule objects to, also its policy status, Block Public Access and tags. Only the bucket-level state is
 * judged: the Block Public Access rules fire on a change to the setting, not on its state (it is off by
 * default), so a sweep reports BPA as context, never as a finding.
 */
export class Assessor {
  private readonly gateways = new Map<string, OssGateway>();
  private accountBpa: Promise<boolean> | undefined;

  constructor(
    private readonly factory: OssClientFactory,
    private readonly config: OssguardConfig,
    /** `region`: where account-level settings are read (the sweep's own region). */
    private readonly context: { accountId: string; region: string; now: Date },
  ) {}

  async assess(ref: BucketRef): Promise<Assessment> {
    const oss = this.gateway(ref.region);
    try {
      const [acl, policy] = await Promise.all([oss.getBucketAcl(ref.name), oss.getBucketPolicy(ref.name)]);
      const aclFindings = evaluateRules(aclRules, { kind: 'bucket', bucket: ref.name, acl }, this.config);
      const policyFindings = policy === null ? [] : this.judgePolicy(ref.name, policy);
      if (aclFindings.length === 0 && policyFindings.length === 0)
        return { kind: 'compliant', bucket: ref.name };
      // No finding depends on these (tags only on exceptions, the rest is context for the alert and the
      // scan), so a compliant bucket never costs them: on most accounts that halves the sweep's requests.
      const [tags, policyPublic, bucketBpa, accountBpa] = await Promise.all([
        oss.getBucketTags(ref.name),
        oss.getBucketPolicyStatus(ref.name),
        oss.getBucketPublicAccessBlock(ref.name),
        this.accountBlocks(),
      ]);
      const { applied } = narrowException(
        evaluateExceptions(
          ref.name,
          this.config.exceptions.buckets.map((e) => ({ pattern: e.bucket, ...e })),
          tags,
          this.config.exceptions,
          this.context.now,
          this.context.accountId || undefined,
        ),
        [...aclFindings, ...policyFindings].map((f) => f.ruleId),
      );
      return {
        kind: 'exposed',
        exposure: {
          bucket: ref.name,
          region: ref.region,
          acl: aclFindings,
          policy: policyFindings,
          state: { acl, policyPublic, blocked: bucketBpa || accountBpa },
          ...(applied ? { excepted: applied } : {}),
        },
      };
    } catch (error) {
      if (isNotFound(error)) return { kind: 'gone', bucket: ref.name };
      return { kind: 'failed', bucket: ref.name, error: describeError(error) };
    }
  }

  /** The policy guard's judgement: the analyser's findings through the policy rules, at or above failOn. */
  private judgePolicy(bucket: string, policy: string): ModedFinding[] {
    const analysis = analyseBucketPolicy(policy, bucket, this.context.accountId, this.config);
    return judge(analysis, this.config).filter((f) => atLeast(f.severity, this.config.policy.failOn));
  }

  /**
   * Read once per sweep; buckets in every region share it. A caller that may not read it still gets the
   * findings: the setting only says whether OSS enforces them for now, so unknown counts as off.
   */
  private accountBlocks(): Promise<boolean> {
    this.accountBpa ??= this.gateway(this.context.region)
      .getAccountPublicAccessBlock()
      .catch(() => false);
    return this.accountBpa;
  }

  private gateway(region: string): OssGateway {
    let gateway = this.gateways.get(region);
    if (!gateway) {
      gateway = new OssGateway(this.factory, region, new CallLog());
      this.gateways.set(region, gateway);
    }
    return gateway;
  }
}
