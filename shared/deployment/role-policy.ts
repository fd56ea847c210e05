import { SNAPSHOT_PREFIX } from '../guards/policy-snapshots';
import { PIPELINE_PREFIX } from '../pipeline/remediated';
import { repeatedKeys } from '../policy/repeated-keys';
import { SWEEP_PREFIX } from '../sweep/progress-checkpoint';
import { parseRamPolicy } from './ram-policy';

/** `${name}` in deploy/role-policy.json. */
const PLACEHOLDER = /\$\{([a-z.]+)\}/g;

/** Where the audit records go: the policy's write path is rendered from the config's `audit` block. */
export interface AuditLocation {
  bucket: string;
  prefix: string;
}

/**
 * Fills in the account id (`${account.id}`: every resource ARN names it, so a bucket of the same name in
 * another account, the audit bucket's above all, is never the role's to write), the audit bucket and the
 * prefixes the functions write there (`${audit.bucket}`, `${audit.prefix}` from the config;
 * `${snapshot.prefix}`, `${sweep.prefix}` and `${pipeline.prefix}` from the code that writes them) in the text
 * of deploy/role-policy.json, then checks the result parses as a RAM policy.
 */
export function renderRolePolicy(
  template: string,
  audit: AuditLocation,
  accountId: string,
  /** KMS secret names the config sets (shared/config/secrets.ts): readable by the role, and nothing else in KMS. */
  secretNames: readonly string[] = [],
  /** The config's `organization`: the member roles the function role may assume, and the directory listing. */
  organization?: Organization,
): string {
  if (!/^\d{5,20}$/.test(accountId)) throw new Error(`role policy: ${accountId} is not an account id`);
  const values: Record<string, string> = {
    'account.id': accountId,
    'audit.bucket': audit.bucket,
    'audit.prefix': audit.prefix,
    'snapshot.prefix': SNAPSHOT_PREFIX,
    'sweep.prefix': SWEEP_PREFIX,
    'pipeline.prefix': PIPELINE_PREFIX,
  };
  const rendered = template.replace(PLACEHOLDER, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`role policy: unknown placeholder ${whole}`);
    return value;
  });
  const withSecrets = secretNames.length > 0 ? grantSecrets(rendered, secretNames, accountId) : rendered;
  const withMembers = organization ? grantMembers(withSecrets, organization, accountId) : withSecrets;
  parseRamPolicy(withMembers);
  return withMembers;
}

/** The config's `organization` section, as the policies need it. */
export interface Organization {
  accounts: 'all' | readonly string[];
  memberRole: string;
}

/**
 * `sts:AssumeRole` on the member role only: in each allowed account, or in any account for `all` (the
 * directory decides which exist, and each member's trust policy names this role alone, F-STS-TRUST-POLICY);
 * with `all`, `resourcemanager:ListAccounts` on the directory's accounts (F-RD-LISTACCOUNTS).
 */
function grantMembers(policy: string, organization: Organization, accountId: string): string {
  const document = JSON.parse(policy) as { Statement: unknown[] };
  const { accounts, memberRole } = organization;
  document.Statement.push({
    Effect: 'Allow',
    Action: ['sts:AssumeRole'],
    Resource: (accounts === 'all' ? ['*'] : accounts).map((id) => `acs:ram::${id}:role/${memberRole}`),
  });
  if (accounts === 'all')
    document.Statement.push({
      Effect: 'Allow',
      Action: ['resourcemanager:ListAccounts'],
      Resource: [`acs:resourcemanager:*:${accountId}:account/*`],
    });
  return JSON.stringify(document, null, 2);
}

interface PolicyStatement {
  Effect: string;
  Action: string[];
  Resource: string[];
}

/**
 * The member role's policy: the function role's template (deploy/role-policy.json) for the member account,
 * keeping of each statement only `actions` (what the rules read and revert, deploy/role.ts memberActions) and
 * only resources in the member's own account; the audit bucket, the trail and KMS stay the deployment's own.
 */
export function renderMemberPolicy(
  template: string,
  memberAccountId: string,
  actions: readonly string[],
): string {
  if (!/^\d{5,20}$/.test(memberAccountId))
    throw new Error(`member policy: ${memberAccountId} is not an account id`);
  const wanted = new Set(actions);
  const document = JSON.parse(template) as { Version: string; Statement: PolicyStatement[] };
  const Statement = document.Statement.flatMap((statement) => {
    const Action = statement.Action.filter((action) => wanted.has(action));
    // Only resources that name the account and nothing else of the deployment's (the audit bucket's paths).
    const Resource = statement.Resource.filter((resource) => {
      const named = [...resource.matchAll(PLACEHOLDER)].map((match) => match[1]);
      return named.length > 0 && named.every((name) => name === 'account.id');
    }).map((resource) => resource.replace(PLACEHOLDER, memberAccountId));
    return Action.length > 0 && Resource.length > 0 ? [{ ...statement, Action, Resource }] : [];
  });
  // The member's event history, for `ossguard replay --accounts` through the operator role: the deployment's
  // own is read with the operator's credentials, so the function role's template has no such statement
  // (F-ACTIONTRAIL-RAM-ACTIONS).
  if (wanted.has(LOOKUP_EVENTS))
    Statement.push({
      Effect: 'Allow',
      Action: [LOOKUP_EVENTS],
      Resource: [`acs:actiontrail:*:${memberAccountId}:*`],
    });
  const rendered = JSON.stringify({ Version: document.Version, Statement }, null, 2);
  parseRamPolicy(rendered);
  return rendered;
}

const LOOKUP_EVENTS = 'actiontrail:LookupEvents';

/**
 * The member role's trust policy: the function role of the deploying account only, never its root (which
 * would let every RAM user and role there that may call sts:AssumeRole in), nor any person: a session of this
 * role under ossguard's session name is ossguard's own to loop prevention (shared/pipeline/accounts.ts). A trust
 * policy may name one role (F-RAM-TRUST-ROLE-PRINCIPAL).
 */
export const memberTrustPolicy = (deployAccountId: string, functionRoleName: string): string =>
  trustPolicy([`acs:ram::${deployAccountId}:role/${functionRoleName}`]);

/** A trust policy letting exactly `principals` (RAM role or user ARNs) assume the role (F-RAM-TRUST-ROLE-PRINCIPAL). */
export function trustPolicy(principals: readonly string[]): string {
  return JSON.stringify(
    {
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [...principals] } }],
      Version: '1',
    },
    null,
    2,
  );
}

/**
 * Everyone a trust policy lets assume the role: every principal of every statement that does not deny
 * (F-STS-TRUST-POLICY), under any key of `Principal`: `RAM` as written, any other key (`Service`, `Federated`,
 * F-RAM-TRUST-FEDERATED, or a spelling RAM may read in another case) as `<key>:<value>`, so that only a `RAM`
 * entry can equal a role's ARN. An IdP's caller names its own sessions, so a `Federated` entry could act under
 * ossguard's session name. Keys and Effect are read in any case and a statement without an Effect counts: what
 * RAM would not read is reported rather than missed. [] for a document that does not parse.
 *
 * What has no one reading fails closed, as an entry that equals no ARN: a statement that is not an object (a
 * nested list, a string: RAM may read what JSON.parse's shape hides), a `NotPrincipal` in any case (everyone
 * but those named, as `NotPrincipal:<value>`), and a key named twice in one object (JSON.parse keeps the last,
 * RAM may keep the first: F-OSS-POLICY-DUPLICATE-KEYS), as `key named twice: <key>`.
 */
export function trustedPrincipals(document: string | undefined): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document ?? '');
  } catch {
    return [];
  }
  const repeated = repeatedKeys(document ?? '').map((key) => `key named twice: ${key}`);
  return [
    ...repeated,
    ...fields(parsed, 'Statement').flatMap((statement) => {
      if (!isObject(statement)) return [`statement that is not an object: ${text(statement)}`];
      const effects = fields(statement, 'Effect');
      if (effects.length > 0 && effects.every((e) => typeof e === 'string' && e.toLowerCase() === 'deny'))
        return [];
      return [
        ...fields(statement, 'Principal').flatMap((principal) =>
          isObject(principal)
            ? Object.entries(principal).flatMap(([key, value]) =>
                list(value).map((p) => (key === 'RAM' ? text(p) : `${key}:${text(p)}`)),
              )
            : [text(principal)],
        ),
        ...fields(statement, 'NotPrincipal').map((principal) => `NotPrincipal:${text(principal)}`),
      ];
    }),
  ];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];
const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
/** The values of `object`'s keys named `name` in any case, lists flattened. */
const fields = (object: unknown, name: string): unknown[] =>
  isObject(object)
    ? Object.entries(object)
        .filter(([key]) => key.toLowerCase() === name.toLowerCase())
        .flatMap(([, value]) => list(value))
    : [];

/**
 * The operator role's policy in a member: the member policy's derivation (`renderMemberPolicy`) over the
 * operator's reads (deploy/role.ts OPERATOR_ACTIONS), and `ram:GetRole` on the member role alone, for doctor to
 * read its trust policy (F-RAM-GETROLE-ACTION).
 */
export function renderOperatorPolicy(
  template: string,
  memberAccountId: string,
  memberRole: string,
  actions: readonly string[],
): string {
  // The template grants GetRole on every role (role-trust-guard reads the member role): the operator, on one only.
  const reads = actions.filter((action) => action !== GET_ROLE);
  const document = JSON.parse(renderMemberPolicy(template, memberAccountId, reads)) as {
    Version: string;
    Statement: PolicyStatement[];
  };
  if (actions.includes(GET_ROLE))
    document.Statement.push({
      Effect: 'Allow',
      Action: [GET_ROLE],
      Resource: [`acs:ram:*:${memberAccountId}:role/${memberRole}`],
    });
  const rendered = JSON.stringify(document, null, 2);
  parseRamPolicy(rendered);
  return rendered;
}

const GET_ROLE = 'ram:GetRole';

/** Adds kms:GetSecretValue on exactly the named secrets, in any region of the account (F-KMS-GETSECRETVALUE). */
function grantSecrets(policy: string, names: readonly string[], accountId: string): string {
  const document = JSON.parse(policy) as { Statement: unknown[] };
  document.Statement.push({
    Effect: 'Allow',
    Action: ['kms:GetSecretValue'],
    Resource: names.map((name) => `acs:kms:*:${accountId}:secret/${name}`),
  });
  return JSON.stringify(document, null, 2);
}

/**
 * Resource ARNs of a role policy that do not name the account (`acs:<service>:<region>:<account>:…`); the
 * member roles an organization's deployment assumes name their own accounts by design.
 */
export function unpinnedResources(policyDocument: string, accountId: string): string[] {
  return (
    parseRamPolicy(policyDocument)
      .filter((statement) => !statement.actions.every((action) => action === 'sts:AssumeRole'))
      .flatMap((statement) => statement.resources)
      // `*`: Security Center's leak calls take no resource (F-SAS-LEAK-LIST), so no account to name.
      .filter((resource) => resource !== '*' && resource.split(':')[3] !== accountId)
  );
}
