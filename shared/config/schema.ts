import { isIP } from 'node:net';
// A namespace import lets esbuild drop the parts of zod left unused; `import { z }` bundles all of it, its
// 40-odd locales included (~360 KB more in every function bundle).
import * as z from 'zod';
import { parseWebhook } from '../alerts/dingtalk';
import { SEVERITIES } from '../severity';

const RULE_MODES = ['enforce', 'alert', 'off'] as const;

/** OSS bucket naming rule (3-63 chars, lowercase letters, digits, hyphens, no leading/trailing hyphen). */
const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'must be a valid OSS bucket name (3-63 of a-z, 0-9, -)');

/** A calendar date, `YYYY-MM-DD`, that exists (2027-02-30 does not). */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD')
  .refine((text) => {
    const date = new Date(`${text}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
  }, 'is not a real calendar date');

const glob = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\s]+$/, 'must be a name or a glob without spaces (* and ? are wildcards)');

const reason = z.string().min(3, 'say why the exception exists');
const bucketException = z.strictObject({ bucket: glob, reason, until: isoDate.optional() });
const userException = z.strictObject({ user: glob, reason, until: isoDate.optional() });

const cidr = z.string().refine((text) => {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
}, 'must be an IPv4/IPv6 address or CIDR block');

/**
 * The robot URL as DingTalk issues it: https only (plain http only to the local cloud), so alerts never leak
 * over plain HTTP, with the robot's access_token and no user info. Whitespace and control characters are
 * refused before parsing, since the URL parser would silently drop the line breaks of an injection attempt.
 */
const webhookUrl = z
  .string()
  .regex(/^[^\s\p{Cc}]+$/u, 'must be a URL without spaces or control characters')
  .superRefine((text, ctx) => {
    try {
      parseWebhook(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: error instanceof Error ? error.message : 'is not valid' });
    }
  });

/** A DNS name (labels of letters, digits and inner hyphens) or an IP address, optionally in brackets. */
const hostname = z
  .string()
  .refine(
    (text) =>
      /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(
        text,
      ) || isIP(text.replace(/^\[(.*)\]$/, '$1')) !== 0,
    'must be a host name or IP address',
  );

const email = z.string().regex(/^[^\s@<>,;"\\]+@[A-Za-z0-9.-]+$/, 'must be a plain email address');

const severity = z.enum(SEVERITIES);

const route = z.strictObject({
  channel: z.enum(['dingtalk', 'email']),
  minSeverity: severity.optional(),
  rules: z.array(z.string()).optional(),
});

export function configSchema(ruleIds: readonly string[]) {
  return z.strictObject({
    /** Decide and audit, but change nothing. */
    dryRun: z.boolean().default(false),
    /** Per-rule mode; rules not named use their default mode. */
    rules: z
      .record(z.string(), z.enum(RULE_MODES))
      .superRefine((rules, ctx) => {
        for (const id of Object.keys(rules).filter((key) => !ruleIds.includes(key))) {
          ctx.addIssue({
            code: 'custom',
            path: [id],
            message: `is not a rule id (known: ${ruleIds.join(', ')})`,
          });
        }
      })
      .default({}),
    /** Blast-radius cap: remediations per invocation, after which the rest are only alerted. */
    maxRemediationsPerInvocation: z.int().min(0).max(10_000).default(25),
    /** ossguard's own function role; its changes are never remediated again (loop prevention). */
    ownRoleName: z.string().min(1).max(64).default('ossguard-fn'),
    objectAclTarget: z.enum(['private', 'default']).default('private'),
    exceptions: z
      .strictObject({
        buckets: z.array(bucketException).default([]),
        users: z.array(userException).default([]),
        /** Tag on a bucket or RAM user whose value is `until=YYYY-MM-DD;reason=…`. */
        tagKey: z.string().min(1).max(128).default('ossguard-exception'),
      })
      .default({ buckets: [], users: [], tagKey: 'ossguard-exception' }),
    audit: z.strictObject({
      bucket: bucketName,
      prefix: z
        .string()
        .regex(/^([A-Za-z0-9._-]+\/)*$/, 'must be empty or end with / (e.g. ossguard/audit/)')
        .default('ossguard/audit/'),
      /** Region of the audit bucket when it differs from the function's region. */
      region: z
        .string()
        .regex(/^[a-z]+-[a-z0-9-]+$/, 'must be a region id such as cn-hangzhou')
        .optional(),
    }),
    alerts: z
      .strictObject({
        dingtalk: z
          .strictObject({
            webhook: webhookUrl,
            mentions: z
              .partialRecord(
                severity,
                z.strictObject({
                  atMobiles: z.array(z.string().regex(/^\+?\d{5,20}$/)).optional(),
                  atUserIds: z.array(z.string().min(1)).optional(),
                  isAtAll: z.boolean().optional(),
                }),
              )
              .optional(),
          })
          .optional(),
        email: z
          .strictObject({
            host: hostname,
            port: z.int().min(1).max(65535).default(465),
            secure: z.boolean().default(true),
            user: z.string().min(1).optional(),
            from: email,
            to: z.array(email).min(1),
          })
          .optional(),
        /** Default: every channel gets every alert. */
        routes: z.array(route).optional(),
      })
      .default({}),
    accessKeys: z
      .strictObject({
        /** Source networks from which creating an AccessKey is expected. Empty: the untrusted-source rule has nothing to judge by. */
        allowedSourceCidrs: z.array(cidr).default([]),
      })
      .default({ allowedSourceCidrs: [] }),
    policy: z
      .strictObject({
        mode: z.enum(['alert', 'restore', 'strip', 'delete']).default('alert'),
        trustedAccounts: z.array(z.string().regex(/^\d{5,20}$/, 'must be an account id')).default([]),
        /** Findings at or above this severity make a policy fail (and be repaired in restore/strip/delete). */
        failOn: severity.default('high'),
      })
      .default({ mode: 'alert', trustedAccounts: [], failOn: 'high' }),
  });
}

export type OssguardConfig = z.infer<ReturnType<typeof configSchema>>;
export type ConfigInput = z.input<ReturnType<typeof configSchema>>;
