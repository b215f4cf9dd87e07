// A checkout endpoint that reports each checkout to Tracklane with the producer SDK.
// In your own service, import from 'tracklane' instead of the repository path.
import http from 'node:http';
import { createTracker, withTraceparent, type Tracker } from '../../src/sdk';

/** What a client POSTs to /checkout. */
interface CheckoutRequest {
  region?: unknown;
  amount_cents?: unknown;
  user_id?: unknown;
  anonymous_id?: unknown;
  email?: unknown;
  consent_analytics?: unknown;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The request handler, with the tracker passed in so tests (and other topologies) can give
 * it theirs. The event has the shape of schemas/checkout-event.avsc; the SDK fills event_id
 * (UUIDv7), ts and correlation_id (from the request's W3C traceparent).
 */
export function checkoutHandler(tracker: Pick<Tracker, 'track'>): http.RequestListener {
  return (req, res) => {
    void handle(tracker, req, res).catch((err: Error) => reply(res, 500, { error: err.message }));
  };
}

async function handle(tracker: Pick<Tracker, 'track'>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/checkout') return reply(res, 404, { error: 'POST /checkout' });
  const started = process.hrtime.bigint();
  let body: CheckoutRequest;
  try {
    body = JSON.parse(await readBody(req)) as CheckoutRequest;
    if (typeof body !== 'object' || body === null) throw new Error('expected a JSON object');
  } catch (err) {
    return reply(res, 400, { error: `bad request body: ${(err as Error).message}` });
  }

  // ... the real checkout (payment, stock) would happen here ...
  const status = typeof body.amount_cents === 'number' && body.amount_cents > 0 ? 'ok' : 'declined';

  const event = {
    type: 'checkout',
    status,
    region: body.region ?? 'unknown',
    duration_ms: Number((process.hrtime.bigint() - started) / 1_000_000n),
    url: '/checkout',
    user_id: body.user_id ?? null,
    anonymous_id: body.anonymous_id ?? null,
    email: body.email ?? null, // personal: Tracklane pseudonymizes it
    ip: req.socket.remoteAddress ?? null, // personal too
    consent_analytics: body.consent_analytics ?? true,
    amount_cents: body.amount_cents ?? null,
  };
  try {
    await withTraceparent(header(req, 'traceparent'), () => tracker.track(event));
  } catch (err) {
    const e = err as Error & { code?: string; path?: string };
    // A request that cannot make a valid event is the client's fault; the error names the field.
    if (e.code === 'VALIDATION_FAILED') return reply(res, 422, { error: e.message, field: e.path });
    return reply(res, 503, { error: 'event tracking unavailable' });
  }
  reply(res, 202, { status });
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) { reject(new Error('body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body) + '\n');
}

export function createCheckoutServer(tracker: Pick<Tracker, 'track'>): http.Server {
  return http.createServer(checkoutHandler(tracker));
}

/** Standalone: the demo topology's source (topologies/checkout.yaml), env as for tracklane. */
if (require.main === module) {
  const tracker = createTracker({ topic: 'raw.checkout', subject: 'raw.checkout-value' });
  const port = Number(process.env.PORT ?? 8080);
  const server = createCheckoutServer(tracker).listen(port, () => process.stderr.write(`checkout-service on :${port}, POST /checkout\n`));
  // The service owns its shutdown: stop taking connections, let the requests in progress
  // finish (they still track their events), then deliver what is queued and go.
  process.once('SIGTERM', () => {
    server.close(() => {
      void tracker.close().then((report) => {
        if (report.undelivered > 0) process.stderr.write(`${report.undelivered} events not delivered: ${report.error?.message}\n`);
        process.exit(report.undelivered > 0 ? 1 : 0);
      });
    });
  });
}
