import type { Runtime } from '../config/load';
import type { Alert, DeliveryResult } from './types';

export type AlertDispatcher = (alerts: Alert[]) => Promise<Map<string, DeliveryResult[]>>;

/** Builds the invocation's alert dispatcher from the validated config and the secrets from the environment. */
export function createAlertDispatcher(runtime: Runtime): AlertDispatcher {
  const { dingtalk, email } = runtime.config.alerts;
  if (!dingtalk && !email) return async () => new Map();
  throw new Error('alert channels are wired in the alerts change');
}
