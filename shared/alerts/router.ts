import { atLeast, type Severity } from '../severity';
import type { Alert, AlertChannel, DeliveryResult } from './types';

/** Which alerts a channel gets: at least `minSeverity`, and, when `rules` is given, fired by one of them. */
export interface AlertRoute {
  channel: string;
  minSeverity?: Severity;
  rules?: string[];
}

const wantsSeverity = (route: AlertRoute, severity: Severity): boolean =>
  atLeast(severity, route.minSeverity ?? 'info');
const anyRule = (route: AlertRoute): boolean => !route.rules || route.rules.length === 0;

const matches = (route: AlertRoute, alert: Alert): boolean =>
  wantsSeverity(route, alert.severity) &&
  (anyRule(route) || alert.rules.some((rule) => route.rules?.includes(rule)));

/** Whether `channel`, once configured, gets every alert of `severity`, whichever rule fired it. */
export const routesCover = (
  routes: readonly AlertRoute[] | undefined,
  channel: string,
  severity: Severity,
): boolean =>
  !routes ||
  routes.some((route) => route.channel === channel && wantsSeverity(route, severity) && anyRule(route));

/**
 * Sends each alert to the channels whose routes want it, all channels in parallel. Without routes every
 * channel gets every alert; with routes, a channel gets only what one of its routes matches.
 */
export class AlertRouter {
  private readonly channels: readonly AlertChannel[];
  private readonly routes: readonly AlertRoute[] | undefined;

  /** Throws when a route names a channel that is not configured: a route that silently matches nothing hides alerts. */
  constructor(channels: readonly AlertChannel[], routes?: readonly AlertRoute[]) {
    const names = new Set(channels.map((channel) => channel.name));
    routes?.forEach((route, i) => {
      if (!names.has(route.channel)) {
        throw new Error(`alerts.routes[${i}].channel: ${route.channel} is not a configured channel`);
      }
    });
    this.channels = channels;
    this.routes = routes;
  }

  wants(channel: AlertChannel, alert: Alert): boolean {
    if (!this.routes) return true;
    return this.routes.some((route) => route.channel === channel.name && matches(route, alert));
  }

  /** Results per alert id (an alert no channel wants gets an empty list). Never rejects. */
  async dispatch(alerts: readonly Alert[]): Promise<Map<string, DeliveryResult[]>> {
    const byId = new Map<string, DeliveryResult[]>(alerts.map((alert) => [alert.id, []]));
    await Promise.all(
      this.channels.map(async (channel) => {
        const wanted = alerts.filter((alert) => this.wants(channel, alert));
        if (wanted.length === 0) return;
        const results = await sendSafely(channel, wanted);
        wanted.forEach((alert, i) => {
          byId.get(alert.id)?.push(results[i] ?? failure(channel, 'channel returned no result'));
        });
      }),
    );
    return byId;
  }
}

const failure = (channel: AlertChannel, error: string): DeliveryResult => ({
  channel: channel.name,
  ok: false,
  attempts: 0,
  error,
});

/** Channels promise not to reject; should one break that promise, its alerts fail and the others still go. */
async function sendSafely(channel: AlertChannel, alerts: Alert[]): Promise<DeliveryResult[]> {
  try {
    return await channel.send(alerts);
  } catch (error) {
    // Only the error's class: an unexpected error's message could carry a request URL or credential.
    const kind = error instanceof Error ? error.name : typeof error;
    return alerts.map(() => failure(channel, `channel failed unexpectedly (${kind})`));
  }
}
