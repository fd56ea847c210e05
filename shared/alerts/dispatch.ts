import { type Runtime, SECRET_ENV } from '../config/load';
import { ConfigValidationError } from '../errors';
import { DingTalkChannel } from './dingtalk';
import { EmailChannel } from './email';
import { AlertRouter } from './router';
import type { SharedSendBudget } from './shared-budget';
import type { Alert, AlertChannel, DeliveryResult } from './types';

export type AlertDispatcher = (alerts: Alert[]) => Promise<Map<string, DeliveryResult[]>>;

/** The budget all instances share for a DingTalk robot, given its webhook; undefined outside an invocation. */
export type SharedBudgetFor = (webhook: string) => SharedSendBudget | undefined;

/** The configured channels, named as routes refer to them (`dingtalk`, `email`). */
export function channelsFor(runtime: Runtime, sharedBudget?: SharedBudgetFor): AlertChannel[] {
  const { dingtalk, email } = runtime.config.alerts;
  const { dingtalkSecret, smtpPassword } = runtime.secrets;
  const channels: AlertChannel[] = [];
  if (dingtalk) {
    channels.push(
      new DingTalkChannel({
        webhook: dingtalk.webhook,
        secret: dingtalkSecret,
        mentions: dingtalk.mentions,
        ...(dingtalk.messagesPerMinute ? { messagesPerMinute: dingtalk.messagesPerMinute } : {}),
        ...(sharedBudget ? { sharedBudget: () => sharedBudget(dingtalk.webhook) } : {}),
      }),
    );
  }
  if (email) {
    if (email.user && !smtpPassword) {
      throw new ConfigValidationError([
        { key: SECRET_ENV.smtpPassword, message: 'must be set when alerts.email.user is configured' },
      ]);
    }
    channels.push(new EmailChannel({ ...email, password: smtpPassword }));
  }
  return channels;
}

/**
 * Builds the dispatcher once per process, at cold start: a bad channel setting fails the init, and the
 * DingTalk rate budget lives as long as the process, across invocations.
 */
export function createAlertDispatcher(runtime: Runtime, sharedBudget?: SharedBudgetFor): AlertDispatcher {
  let router: AlertRouter;
  try {
    router = new AlertRouter(channelsFor(runtime, sharedBudget), runtime.config.alerts.routes);
  } catch (error) {
    if (error instanceof ConfigValidationError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigValidationError([{ key: 'alerts', message }], { cause: error });
  }
  return (alerts) => router.dispatch(alerts);
}
