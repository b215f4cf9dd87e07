import crypto from 'node:crypto';

/**
 * Synthetic web-shop checkout traffic over a span of event time, with the things a real
 * stream has: returning users who log in part-way (identity), sessions, personal data,
 * consent refusals, resent events (duplicates) and one incident: an error and latency burst.
 */
export interface TrafficPlan {
  start: number;
  end: number;
  eventsPerMinute: number;
  /** An outage in one region: its checkouts fail at errorRate and slow down. */
  incident: { start: number; end: number; errorRate: number; region: string };
  baseErrorRate: number;
  duplicateRate: number;
  seed: number;
}

export interface CheckoutEvent {
  event_id: string;
  ts: number;
  type: string;
  status: string;
  region: string;
  duration_ms: number;
  url: string;
  anonymous_id: string | null;
  user_id: string | null;
  email: string | null;
  ip: string | null;
  consent_analytics: boolean;
  correlation_id: string | null;
  amount_cents: number | null;
}

export interface TrafficItem {
  event: CheckoutEvent;
  /** A resend of an earlier event: same id, same bytes. */
  duplicate: boolean;
  traceparent?: string;
}

/** Small deterministic PRNG (mulberry32): a seed always yields the same sequence (demo traffic and test streams). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REGIONS = ['eu-west', 'us-east', 'ap-south'];
const PAGES = ['/cart', '/checkout', '/checkout/pay', '/checkout/confirm'];

export function* checkoutTraffic(plan: TrafficPlan): Generator<TrafficItem> {
  const rand = prng(plan.seed);
  const users = Array.from({ length: 400 }, (_, i) => ({
    anonymous: `anon-${crypto.createHash('sha1').update(`a${plan.seed}-${i}`).digest('hex').slice(0, 12)}`,
    user: `user-${1000 + i}`,
    email: `shopper${i}@example.com`,
    ip: `198.51.100.${i % 250}`,
    loggedIn: false,
    consent: rand() > 0.08,
  }));
  const recent: CheckoutEvent[] = [];
  const step = 60_000 / plan.eventsPerMinute;
  let n = 0;
  for (let t = plan.start; t < plan.end; t += step) {
    const u = users[Math.floor(rand() * users.length)];
    // A visitor logs in at some point; from then on events carry both ids (identity links them).
    if (!u.loggedIn && rand() < 0.05) u.loggedIn = true;
    const region = REGIONS[Math.floor(rand() * REGIONS.length)];
    const inIncident = t >= plan.incident.start && t < plan.incident.end && region === plan.incident.region;
    const failed = rand() < (inIncident ? plan.incident.errorRate : plan.baseErrorRate);
    const slow = inIncident ? rand() < 0.3 : rand() < 0.004;
    const event: CheckoutEvent = {
      event_id: `ev-${plan.seed}-${n++}`,
      ts: Math.floor(t),
      type: 'checkout',
      status: failed ? 'error' : 'ok',
      region,
      duration_ms: Math.round(slow ? 400 + rand() * 1200 : 40 + rand() * 180),
      url: PAGES[Math.floor(rand() * PAGES.length)],
      anonymous_id: u.anonymous,
      user_id: u.loggedIn ? u.user : null,
      email: u.loggedIn ? u.email : null,
      ip: u.ip,
      consent_analytics: u.consent,
      correlation_id: null,
      amount_cents: Math.round(500 + rand() * 20_000),
    };
    const traceparent = rand() < 0.5 ? `00-${crypto.randomBytes(16).toString('hex')}-${crypto.randomBytes(8).toString('hex')}-01` : undefined;
    yield { event, duplicate: false, traceparent };
    recent.push(event);
    if (recent.length > 500) recent.shift();
    if (rand() < plan.duplicateRate) {
      yield { event: recent[Math.floor(rand() * recent.length)], duplicate: true };
    }
  }
}
