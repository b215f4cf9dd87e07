import { UserError } from '../errors';
import type { Alert } from '../slo/records';
import { toAlertmanager } from './alertmanager';
import { postJson } from './http-post';
import { toPagerDuty } from './pagerduty';

/** Where transitions go. */
export interface AlertTarget {
  readonly name: 'alertmanager' | 'pagerduty';
  /** Delivers one transition; resolves only when the receiver accepted it (2xx). */
  deliver(alert: Alert): Promise<void>;
  /**
   * Re-sends alerts that are still firing, for receivers that forget them otherwise
   * (Alertmanager). Absent when the receiver keeps state until told (PagerDuty).
   */
  keepAlive?(firing: Alert[]): Promise<void>;
}

/** Header that tells a transition from a keep-alive re-send (for receivers' logs and tests). */
export const DELIVERY_HEADER = 'x-tracklane-delivery';

export interface TargetOptions {
  /** --resend-interval: firing alerts are re-sent this often; they live 4 intervals in Alertmanager. */
  resendIntervalMs: number;
  /** TRACKLANE_PAGERDUTY_ROUTING_KEY. */
  routingKey?: string;
  generatorURL?: string;
  now?: () => number;
}

export const PAGERDUTY_PATH = '/v2/enqueue';
export const ALERTMANAGER_PATH = '/api/v2/alerts';

/** Alertmanager takes many alerts per POST; keep-alives are sent in chunks of this many. */
const KEEPALIVE_CHUNK = 500;

/** `alertmanager=URL[,pagerduty=URL]` -> targets. A URL without a path gets the API's path. */
export function parseTargets(spec: string, o: TargetOptions): AlertTarget[] {
  const now = o.now ?? Date.now;
  const seen = new Set<string>();
  const targets: AlertTarget[] = [];
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const kind = eq > 0 ? part.slice(0, eq) : '';
    const url = eq > 0 ? part.slice(eq + 1) : '';
    if (kind !== 'alertmanager' && kind !== 'pagerduty') {
      throw new UserError(`--to ${part}: expected alertmanager=URL or pagerduty=URL`, ['e.g. --to alertmanager=http://127.0.0.1:9093,pagerduty=https://events.pagerduty.com']);
    }
    if (seen.has(kind)) throw new UserError(`--to names ${kind} twice`);
    seen.add(kind);
    const full = withDefaultPath(url, kind === 'alertmanager' ? ALERTMANAGER_PATH : PAGERDUTY_PATH, part);
    if (kind === 'alertmanager') {
      const firingTtlMs = 4 * o.resendIntervalMs;
      targets.push({
        name: 'alertmanager',
        deliver: (a) => postJson('alertmanager', full, [toAlertmanager(a, { now: now(), firingTtlMs, generatorURL: o.generatorURL })], { [DELIVERY_HEADER]: 'transition' }),
        keepAlive: async (firing) => {
          for (let i = 0; i < firing.length; i += KEEPALIVE_CHUNK) {
            const body = firing.slice(i, i + KEEPALIVE_CHUNK).map((a) => toAlertmanager(a, { now: now(), firingTtlMs, generatorURL: o.generatorURL }));
            await postJson('alertmanager', full, body, { [DELIVERY_HEADER]: 'keepalive' });
          }
        },
      });
    } else {
      const key = o.routingKey;
      if (!key) throw new UserError('pagerduty needs a routing key: set TRACKLANE_PAGERDUTY_ROUTING_KEY (the integration key of an Events API v2 service)');
      targets.push({
        name: 'pagerduty',
        deliver: (a) => postJson('pagerduty', full, toPagerDuty(a, key), { [DELIVERY_HEADER]: 'transition' }),
      });
    }
  }
  if (targets.length === 0) throw new UserError('--to names no receiver', ['e.g. --to alertmanager=http://127.0.0.1:9093']);
  return targets;
}

function withDefaultPath(url: string, path: string, part: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UserError(`--to ${part}: "${url}" is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserError(`--to ${part}: expected an http:// or https:// URL`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = path;
  return u.toString();
}
