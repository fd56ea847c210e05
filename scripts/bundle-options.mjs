// esbuild options shared by scripts/build.mjs and the cold-start benchmark's SDK-only floor
// (bench/cold-start.ts), so that floor is bundled exactly like the functions it is compared with.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { besideBundle, importerShims, pruneSdkModels } from './bundle-plugins.mjs';

const root = new URL('..', import.meta.url).pathname;

/** For every bundle: the functions and the CLI. */
export const bundleOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  // Error classes take their `name` from the class (GuardError: `new.target.name`); audit records and FC
  // error types must say ConfigValidationError, not a minified identifier.
  keepNames: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  // urllib requires proxy-agent only when ali-oss is given `enableProxy`, which ossguard never sets.
  // debug and mz try supports-color and graceful-fs and fall back when they are missing: they are in
  // node_modules only for dev tools (dependency-cruiser), and must not ride along in the functions.
  external: ['proxy-agent', 'supports-color', 'graceful-fs'],
  // gateway-sls (under @alicloud/sls20201230) imports lz4-napi, whose native binary cannot be bundled: the shim
  // adapts lz4js (plain JS) to lz4-napi's calling convention.
  alias: { 'lz4-napi': join(root, 'scripts', 'shims', 'lz4-napi.cjs') },
  define: { OSSGUARD_VERSION: JSON.stringify(process.env.npm_package_version ?? '0.0.0') },
};

/**
 * The models each generated SDK keeps in the function bundles (see pruneSdkModels): for every call a
 * function makes, its request and response model. Any other model (not needed by these) fails when touched, naming
 * itself and this table.
 */
export const SDK_MODELS = {
  '@alicloud/ram20150501': [
    'ListAccessKeysRequest',
    'ListAccessKeysResponse',
    'GetLoginProfileRequest',
    'GetLoginProfileResponse',
    'UpdateAccessKeyRequest',
    'UpdateAccessKeyResponse',
    // The sweep of AccessKeys (shared/sweep/keys.ts).
    'ListUsersRequest',
    'ListUsersResponse',
    'GetAccessKeyLastUsedRequest',
    'GetAccessKeyLastUsedResponse',
    'GetUserMFAInfoRequest',
    'GetUserMFAInfoResponse',
    // identity-policy-guard (shared/guards/identity-policy.ts).
    'GetPolicyRequest',
    'GetPolicyResponse',
    'GetPolicyVersionRequest',
    'GetPolicyVersionResponse',
    'ListPolicyVersionsRequest',
    'ListPolicyVersionsResponse',
    'SetDefaultPolicyVersionRequest',
    'SetDefaultPolicyVersionResponse',
    'GetUserRequest',
    'GetUserResponse',
    'ListEntitiesForPolicyRequest',
    'ListEntitiesForPolicyResponse',
    'DetachPolicyFromUserRequest',
    'DetachPolicyFromUserResponse',
    'DetachPolicyFromGroupRequest',
    'DetachPolicyFromGroupResponse',
    'DetachPolicyFromRoleRequest',
    'DetachPolicyFromRoleResponse',
    // AddUserToGroup: the membership and the group's policies.
    'ListGroupsForUserRequest',
    'ListGroupsForUserResponse',
    'ListPoliciesForGroupRequest',
    'ListPoliciesForGroupResponse',
    // role-trust-guard (shared/guards/role-trust.ts): the trust policy of ossguard's roles.
    'GetRoleRequest',
    'GetRoleResponse',
  ],
  '@alicloud/ims20190815': [
    'GetUserRequest',
    'GetUserResponse',
    'UntagResourcesRequest',
    'UntagResourcesResponse',
  ],
  // The object-ACL guard's PullLogs (shared/clients/sls.ts) and the log groups its response carries.
  '@alicloud/sls20201230': [
    'PullLogsRequest',
    'PullLogsResponse',
    'PullLogsHeaders',
    'LogGroupList',
    'LogGroup',
    'LogItem',
    'LogContent',
    'LogTag',
  ],
};

const shim = (name) => join(root, 'scripts', 'shims', name);
const darabonba = (file) => new RegExp(`[\\\\/]@darabonba[\\\\/]typescript[\\\\/]dist[\\\\/]${file}\\.js$`);

/**
 * For the function bundles, whose size is their cold start. The CLI keeps the real iconv-lite (it runs the
 * local cloud, whose SMTP server decodes mail in any charset), every SDK model and the WebSocket client.
 */
/**
 * Clients bundled beside each function (scripts/build.mjs) and required only when used, so that a cold start
 * neither carries nor evaluates them: the KMS client where secrets are in KMS (shared/pipeline/handler.ts),
 * nodemailer on the first email (shared/alerts/email.ts).
 */
const KMS_CLIENT = {
  module: '/clients/kms',
  file: 'kms.cjs',
  entry: join(root, 'shared', 'clients', 'kms.ts'),
};
const SMTP_CLIENT = {
  module: 'nodemailer',
  file: 'smtp.cjs',
  entry: createRequire(import.meta.url).resolve('nodemailer'),
};

/** STS and Resource Directory, beside each function like KMS's client: loaded only for an organization. */
export const ORGANIZATION_CLIENT = {
  module: '/clients/organization-api',
  file: 'organization.cjs',
  entry: join(root, 'shared', 'clients', 'organization-api.ts'),
};

/** Every client bundled beside the functions (nodemailer too: loaded on the first email). */
export const BESIDE_CLIENTS = [KMS_CLIENT, SMTP_CLIENT, ORGANIZATION_CLIENT];

export const functionBundleOptions = {
  ...bundleOptions,
  alias: { ...bundleOptions.alias, 'iconv-lite': shim('iconv-lite.cjs') },
  plugins: [
    ...BESIDE_CLIENTS.map(besideBundle),
    pruneSdkModels(SDK_MODELS),
    importerShims([
      ...['ws', 'socks-proxy-agent', 'https-proxy-agent', 'http-proxy-agent'].map((module) => ({
        module,
        importer: darabonba('websocket'),
        shim: shim('websocket.cjs'),
      })),
      { module: 'lodash', importer: darabonba('func'), shim: shim('lodash-merge.cjs') },
    ]),
  ],
};
