import { en } from 'zod/locales';
// zod/mini, not classic zod: the same checks and issues, but a schema does not carry its ~50 chainable
// methods, so building one of this size at cold start costs ~4 ms instead of ~10, and each bundle is
// ~70 KB smaller.
// Classic zod loads the English messages itself; mini needs them set, or every message is "Invalid input".
import * as z from 'zod/mini';
import { isLocalRobot, parseWebhook, ROBOT_MESSAGES_PER_MINUTE } from '../alerts/dingtalk';
import { DEFAULT_MEMBER_ROLE, MEMBER_ROLE_MAX_LENGTH } from '../deployment/names';
import { isIpAddress, parseNetwork } from '../network';
import { isCalendarDate } from '../rule-exceptions';
import { SEVERITIES } from '../severity';

z.config(en());

const RULE_MODES = ['enforce', 'alert', 'off'] as const;

/** Where audit records go when the config names no prefix. */
export const DEFAULT_AUDIT_PREFIX = 'ossguard/audit/';

/** OSS bucket naming rule (3-63 chars, lowercase letters, digits, hyphens, no leading/trailing hyphen). */
const bucketName = z
  .string()
  .check(
    z.regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a valid OSS bucket name (3-63 of a-z, 0-9, -)'),
  );

/** A calendar date, `YYYY-MM-DD`, that exists (2027-02-30 does not). */
export const isoDate = z
  .string()
  .check(
    z.regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD'),
    z.refine(isCalendarDate, 'is not a real calendar date'),
  );

const glob = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(255),
    z.regex(/^[^\s]+$/, 'must be a name or a glob without spaces (* and ? are wildcards)'),
  );

/**
 * An Alibaba Cloud account id: digits. Documented examples have 16 (`123456789012****`), but no page states the
 * length (F-ORG-ACCOUNT-ID), so any 5 to 20 digits pass, as `policy.trustedAccounts` takes them.
 */
export const accountId = z.string().check(z.regex(/^\d{5,20}$/, 'must be an account id (digits)'));

const reason = z.string().check(z.minLength(3, 'say why the exception exists'));
/** The accounts an exception is scoped to; without the list, every account ossguard guards. */
const scopedTo = z.optional(z.array(accountId).check(z.minLength(1)));
/** The rules an exception waives; without the list, every rule about its subject. */
const waives = z.optional(z.array(z.string().check(z.regex(/^[a-z0-9-]+$/, 'must be a rule id'))));
const bucketException = z.strictObject({
  bucket: glob,
  reason,
  until: z.optional(isoDate),
  rules: waives,
  accounts: scopedTo,
});
const userException = z.strictObject({
  user: glob,
  reason,
  until: z.optional(isoDate),
  rules: waives,
  accounts: scopedTo,
});
const accessKeyException = z.strictObject({
  accessKeyId: glob,
  reason,
  until: z.optional(isoDate),
  accounts: scopedTo,
});

const cidr = z
  .string()
  .check(z.refine((text) => parseNetwork(text) !== undefined, 'must be an IPv4/IPv6 address or CIDR block'));

/** The networks one key, or the keys of the users a glob names, may be used from. */
const keyNetworks = z
  .strictObject({
    user: z.optional(glob),
    accessKeyId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9.]{8,128}$/, 'must be an AccessKey id'))),
    cidrs: z._default(z.array(cidr), []),
    vpcIds: z._default(
      z.array(z.string().check(z.regex(/^vpc-[A-Za-z0-9]+$/, 'must be a VPC id (vpc-…)'))),
      [],
    ),
  })
  .check(
    z.refine(
      (entry) => (entry.user === undefined) !== (entry.accessKeyId === undefined),
      'name either user or accessKeyId',
    ),
    z.refine(
      (entry) => entry.cidrs.length + entry.vpcIds.length > 0,
      'name at least one CIDR block or VPC id',
    ),
  );

/**
 * The robot URL as DingTalk issues it: https only (plain http only to the local cloud), so alerts never leak
 * over plain HTTP, with the robot's access_token and no user info. Whitespace and control characters are
 * refused before parsing, since the URL parser would silently drop the line breaks of an injection attempt.
 */
const webhookUrl = z.string().check(
  z.regex(/^[^\s\p{Cc}]+$/u, 'must be a URL without spaces or control characters'),
  z.superRefine((text, ctx) => {
    try {
      parseWebhook(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'is not valid' });
    }
  }),
);

/** A DNS name (labels of letters, digits and inner hyphens) or an IP address, optionally in brackets. */
const hostname = z
  .string()
  .check(
    z.refine(
      (text) =>
        /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
          text,
        ) || isIpAddress(text.replace(/^\[(.*)\]$/, '$1')),
      'must be a host name or IP address',
    ),
  );

const email = z.string().check(z.regex(/^[^\s@<>,;"\\]+@[A-Za-z0-9.-]+$/, 'must be a plain email address'));

const severity = z.enum(SEVERITIES);

const route = z.strictObject({
  channel: z.enum(['dingtalk', 'email']),
  minSeverity: z.optional(severity),
  rules: z.optional(z.array(z.string())),
});

/** A KMS secret name as CreateSecret allows it (F-KMS-CREATESECRET). */
const secretName = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_/+=.@-]{1,192}$/, 'must be a KMS secret name (letters, digits, _/+=.@-)'));

/** A RAM role name as CreateRole allows it: 1-64 of letters, digits, `.` and `-` (F-RAM-ROLE-NAME-CASE). */
const roleName = z
  .string()
  .check(z.regex(/^[A-Za-z0-9.-]{1,64}$/, 'must be a RAM role name (1-64 of letters, digits, . and -)'));

/**
 * One deployment for a Resource Directory (README "An organization"): the accounts ossguard acts in through
 * the role `memberRole` that `ossguard bootstrap --account` creates in each. `all`: every account ListAccounts
 * returns. Changes of other accounts are reported, never acted on.
 */
const organization = z.strictObject({
  accounts: z.union([
    z.literal('all'),
    z.array(accountId).check(
      z.minLength(1, 'name at least one account id, or write all'),
      z.refine((ids) => new Set(ids).size === ids.length, 'names an account twice'),
    ),
  ]),
  // Its read-only operator role is named after it (shared/deployment/names.ts operatorRoleName), so it must fit too.
  memberRole: z._default(
    roleName.check(
      z.maxLength(
        MEMBER_ROLE_MAX_LENGTH,
        `at most ${MEMBER_ROLE_MAX_LENGTH} characters: its operator role adds -operator`,
      ),
    ),
    DEFAULT_MEMBER_ROLE,
  ),
});

export function configSchema(ruleIds: readonly string[]) {
  return z.strictObject({
    /** Decide and audit, but change nothing. */
    dryRun: z._default(z.boolean(), false),
    /** Per-rule mode; rules not named use their default mode. */
    rules: z._default(
      z.record(z.string(), z.enum(RULE_MODES)).check(
        z.superRefine((rules, ctx) => {
          for (const id of Object.keys(rules).filter((key) => !ruleIds.includes(key))) {
            ctx.addIssue({
              code: 'custom',
              path: [id],
              message: `is not a rule id (known: ${ruleIds.join(', ')})`,
            });
          }
        }),
      ),
      {},
    ),
    /** Blast-radius cap: remediations per invocation, after which the rest are only alerted. */
    maxRemediationsPerInvocation: z._default(z.int().check(z.minimum(0), z.maximum(10_000)), 25),
    /** ossguard's own function role; its changes are never remediated again (loop prevention). */
    ownRoleName: z._default(z.string().check(z.minLength(1), z.maxLength(64)), 'ossguard-fn'),
    objectAclTarget: z._default(z.enum(['private', 'default']), 'private'),
    exceptions: z._default(
      z.strictObject({
        buckets: z._default(z.array(bucketException), []),
        users: z._default(z.array(userException), []),
        /** AccessKeys (id globs) whose use the key-usage rules accept: the only exception a root key can have. */
        accessKeys: z._default(z.array(accessKeyException), []),
        /** Tag on a bucket or RAM user whose value is `until=YYYY-MM-DD;reason=…;rules=<id>,…`. */
        tagKey: z._default(z.string().check(z.minLength(1), z.maxLength(128)), 'ossguard-exception'),
        /** A tag's `until` may lie at most this many days ahead: whoever may tag must renew the exception. */
        maxLifetimeDays: z._default(z.int().check(z.minimum(1), z.maximum(3650)), 90),
      }),
      { buckets: [], users: [], accessKeys: [], tagKey: 'ossguard-exception', maxLifetimeDays: 90 },
    ),
    audit: z.strictObject({
      bucket: bucketName,
      prefix: z._default(
        z
          .string()
          .check(z.regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or end with / (e.g. ossguard/audit/)')),
        DEFAULT_AUDIT_PREFIX,
      ),
      /** Region of the audit bucket when it differs from the function's region. */
      region: z.optional(
        z.string().check(z.regex(/^[a-z]+-[a-z0-9-]+$/, 'must be a region id such as cn-hangzhou')),
      ),
    }),
    alerts: z._default(
      z.strictObject({
        dingtalk: z.optional(
          z
            .strictObject({
              webhook: webhookUrl,
              /**
               * The robot's budget: DingTalk's 20 (F-DINGTALK-RATE-LIMIT), or fewer when other senders share the
               * robot. More only for a robot on this machine (the local cloud's), whose limit its owner sets.
               */
              messagesPerMinute: z.optional(z.int().check(z.minimum(2))),
              mentions: z.optional(
                z.partialRecord(
                  severity,
                  z.strictObject({
                    atMobiles: z.optional(z.array(z.string().check(z.regex(/^\+?\d{5,20}$/)))),
                    atUserIds: z.optional(z.array(z.string().check(z.minLength(1)))),
                    isAtAll: z.optional(z.boolean()),
                  }),
                ),
              ),
            })
            .check(
              z.superRefine((dingtalk, ctx) => {
                const local = URL.canParse(dingtalk.webhook) && isLocalRobot(new URL(dingtalk.webhook));
                if ((dingtalk.messagesPerMinute ?? 0) > ROBOT_MESSAGES_PER_MINUTE && !local) {
                  ctx.addIssue({
                    code: 'custom',
                    path: ['messagesPerMinute'],
                    message: `must be at most ${ROBOT_MESSAGES_PER_MINUTE}, what a DingTalk robot takes`,
                  });
                }
              }),
            ),
        ),
        email: z.optional(
          z.strictObject({
            host: hostname,
            port: z._default(z.int().check(z.minimum(1), z.maximum(65535)), 465),
            secure: z._default(z.boolean(), true),
            user: z.optional(z.string().check(z.minLength(1))),
            from: email,
            to: z.array(email).check(z.minLength(1)),
          }),
        ),
        /** Default: every channel gets every alert. */
        routes: z.optional(z.array(route)),
      }),
      {},
    ),
    /**
     * The one trail feed (README "Deploy"): an ActionTrail trail over all regions that writes to the logstore
     * `actiontrail_<name>` in the SLS project `project`, in the home region `region`, where the log-triggered
     * trail-guard runs (F-FC-LOGTRIGGER-SAME-REGION). `ossguard bootstrap` creates or adopts it.
     */
    trail: z._default(
      z.strictObject({
        name: z._default(
          z.string().check(z.regex(/^[a-z][a-z0-9_-]{5,35}$/, 'must be 6-36 of a-z, 0-9, _ and -')),
          'ossguard',
        ),
        /** Home region: the SLS project and trail-guard live here. Default: the function's own region. */
        region: z.optional(
          z.string().check(z.regex(/^[a-z]+-[a-z0-9-]+$/, 'must be a region id such as cn-hangzhou')),
        ),
        project: z._default(
          z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be an SLS project name')),
          'ossguard-trail',
        ),
        /** Days the trail logstore keeps logs; ActionTrail creates it with no expiry (F-SLS-TRAIL-LOGSTORE). */
        retentionDays: z._default(z.int().check(z.minimum(1), z.maximum(3650)), 180),
        /** Also record OSS read data events (GetObject, …): they cost money and ossguard does not need them. */
        ossReadEvents: z._default(z.boolean(), false),
        /**
         * Re-read the ACL of each object written with no ACL in its record (one GetObjectAcl per upload): off
         * only once a live check shows the trail's records carry `x-oss-object-acl` (F-ACTIONTRAIL-OSS-ACL-HEADER).
         */
        recheckObjectWrites: z._default(z.boolean(), true),
      }),
      {
        name: 'ossguard',
        project: 'ossguard-trail',
        retentionDays: 180,
        ossReadEvents: false,
        recheckObjectWrites: true,
      },
    ),
    accessKeys: z._default(
      z.strictObject({
        /** Source networks from which creating an AccessKey is expected. Empty: the untrusted-source rule has nothing to judge by. */
        allowedSourceCidrs: z._default(z.array(cidr), []),
        /**
         * Where each key may sign calls from, per key id or per user name glob (the first entry naming the key
         * wins, then the first naming its user); a key no entry names is held to `allowedSourceCidrs`.
         */
        allowedNetworks: z._default(z.array(keyNetworks), []),
        /** The sweep reports active keys at least this old (access-key-too-old). */
        maxAgeDays: z._default(z.number().check(z.int(), z.minimum(1)), 90),
        /** The sweep reports, and in enforce disables, keys unused this long (access-key-unused). */
        unusedDays: z._default(z.number().check(z.int(), z.minimum(1)), 90),
      }),
      { allowedSourceCidrs: [], allowedNetworks: [], maxAgeDays: 90, unusedDays: 90 },
    ),
    /**
     * KMS Secrets Manager secret names (never values) to read ossguard's own secrets from at cold start
     * (F-KMS-GETSECRETVALUE); a secret not named here comes from its environment variable.
     */
    secrets: z.optional(
      z.strictObject({
        /** Region of the secrets. Default: the function's own region. */
        region: z.optional(
          z.string().check(z.regex(/^[a-z]+-[a-z0-9-]+$/, 'must be a region id such as cn-hangzhou')),
        ),
        dingtalkSecret: z.optional(secretName),
        smtpPassword: z.optional(secretName),
        auditKey: z.optional(secretName),
      }),
    ),
    organization: z.optional(organization),
    policy: z._default(
      z.strictObject({
        mode: z._default(z.enum(['alert', 'restore', 'strip', 'delete']), 'alert'),
        trustedAccounts: z._default(
          z.array(z.string().check(z.regex(/^\d{5,20}$/, 'must be an account id'))),
          [],
        ),
        /**
         * UIDs (or ARNs) of the owner's RAM users and roles that policies may name: a RAM user's UID looks
         * like an account UID, so without this list the analyser counts them as foreign accounts.
         */
        knownPrincipals: z._default(
          z.array(
            z
              .string()
              .check(
                z.regex(
                  /^(\d{5,20}|acs:ram::\d{5,20}:(user|role)\/[^\s*]+)$/,
                  'must be a UID or a RAM user/role ARN',
                ),
              ),
          ),
          [],
        ),
        /** Findings at or above this severity make a policy fail (and be repaired in restore/strip/delete). */
        failOn: z._default(severity, 'high'),
      }),
      { mode: 'alert', trustedAccounts: [], knownPrincipals: [], failOn: 'high' },
    ),
  });
}

export type OssguardConfig = z.infer<ReturnType<typeof configSchema>>;
export type ConfigInput = z.input<ReturnType<typeof configSchema>>;
