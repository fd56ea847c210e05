export {
  ENDPOINT_ENV,
  type Endpoints,
  loadRuntime,
  parseConfig,
  type Runtime,
  SECRET_ENV,
  type Secrets,
} from './load';
export { type ConfigInput, configSchema, DEFAULT_AUDIT_PREFIX, isoDate, type OssguardConfig } from './schema';
