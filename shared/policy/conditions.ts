import { holdsEveryIpv4, parseNetwork } from '../network';
import { hasWildcard } from '../wildcard';

/** One key of one operator block; keys are lower-cased because RAM condition keys are case-insensitive. */
export interface ConditionEntry {
  operator: string;
  key: string;
  values: string[];
}

/** RAM condition operators (F-OSS-POLICY-CONDITIONS). */
export const CONDITION_OPERATORS: ReadonlySet<string> = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'IpAddress',
  'NotIpAddress',
]);

/**
 * Only operators that admit the listed values can pin the caller: `StringNotLike acs:SourceVpc vpc-*`
 * (the doc's "not from any VPC") restricts nothing about who calls. The BPA table lists keys and values,
 * not operators, so excluding the negated operators is our reading (it can only make a verdict more public).
 */
const ADMITTING_STRING_OPERATORS: ReadonlySet<string> = new Set([
  'StringEquals',
  'StringEqualsIgnoreCase',
  'StringLike',
]);

export const IP_KEYS: ReadonlySet<string> = new Set(['acs:sourceip', 'acs:sourcevpcip']);
const VPC_KEYS: ReadonlySet<string> = new Set(['acs:sourcevpc', 'acs:sourcevpcid']);
const IDENTITY_KEYS: ReadonlySet<string> = new Set([...VPC_KEYS, 'acs:accessid']);

/**
 * Block Public Access: a source network narrower than IPv4 /8 or IPv6 /32 makes a statement non-public
 * (https://www.alibabacloud.com/help/en/oss/user-guide/block-public-access, F-OSS-PUBLIC-DEFINITION). Every
 * listed value must be, because the values of one key are alternatives. An IPv6 block that holds the
 * IPv4-mapped range (`::/32`) reaches every IPv4 caller in mapped form, so it is as wide as IPv4 /0: our
 * reading, which can only make a verdict more public (F-OSS-SOURCEIP-IPV4-MAPPED).
 */
function narrowNetwork(entry: ConditionEntry): boolean {
  return (
    entry.operator === 'IpAddress' &&
    IP_KEYS.has(entry.key) &&
    entry.values.length > 0 &&
    entry.values.every((v) => {
      const network = parseNetwork(v.trim());
      if (network === undefined) return false;
      return network.family === 4 ? network.bits >= 8 : network.bits >= 32 && !holdsEveryIpv4(network);
    })
  );
}

/**
 * Same page: acs:SourceVpc, acs:SourceVpcId and acs:AccessId pin the caller with fixed values. A value with
 * `*` or `?` (`vpc-????`, `LTAI????`) is a pattern under StringLike, not a fixed value, whatever the
 * operator (F-OSS-SOURCEIP-IPV4-MAPPED).
 */
const fixedValues = (entry: ConditionEntry, keys: ReadonlySet<string>): boolean =>
  ADMITTING_STRING_OPERATORS.has(entry.operator) &&
  keys.has(entry.key) &&
  entry.values.length > 0 &&
  entry.values.every((v) => v.length > 0 && !hasWildcard(v));

/** Conditions that make a wildcard-principal statement non-public under Block Public Access. */
export const pinsCaller = (conditions: readonly ConditionEntry[]): boolean =>
  conditions.some((c) => narrowNetwork(c) || fixedValues(c, IDENTITY_KEYS));

/** Conditions that limit where calls come from (acs:SourceIp / acs:SourceVpc family), not who makes them. */
export const pinsNetwork = (conditions: readonly ConditionEntry[]): boolean =>
  conditions.some((c) => narrowNetwork(c) || fixedValues(c, VPC_KEYS));

const boolIs = (c: ConditionEntry, value: 'true' | 'false'): boolean =>
  c.operator === 'Bool' &&
  c.key === 'acs:securetransport' &&
  c.values.length > 0 &&
  c.values.every((v) => v.toLowerCase() === value);

export const requiresHttps = (conditions: readonly ConditionEntry[]): boolean =>
  conditions.some((c) => boolIs(c, 'true'));

/** A Deny whose only condition is "not over HTTPS": the form every OSS doc example uses. */
export const onlyMatchesHttp = (conditions: readonly ConditionEntry[]): boolean =>
  conditions.length > 0 && conditions.every((c) => boolIs(c, 'false'));
