import http from 'node:http';
import type { Registry } from 'prom-client';

export interface HttpStatus {
  ready(): boolean;
  /** The status page (HTML); absent until the SLO work provides one. */
  statusPage?(): string;
  /** JSON for the status page's charts. */
  statusJson?(): unknown;
  /** A static file for the status page, served at /assets/<name>; undefined answers 404. */
  asset?(name: string): { contentType: string; body: Buffer } | undefined;
}

/** /metrics for Prometheus, /healthz (process alive), /readyz (consuming), / (status page), /status.json, /assets/. */
export function startHttpServer(port: number, registry: Registry, status: HttpStatus): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    try {
      if (url === '/metrics') {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(await registry.metrics());
      } else if (url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (url === '/readyz') {
        const ready = status.ready();
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      } else if (url === '/status.json' && status.statusJson) {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(status.statusJson()));
      } else if (url === '/' && status.statusPage) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(status.statusPage());
      } else if (url.startsWith('/assets/') && status.asset) {
        const asset = status.asset(url.slice('/assets/'.length));
        if (asset) res.writeHead(200, { 'content-type': asset.contentType, 'cache-control': 'public, max-age=3600' }).end(asset.body);
        else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('error\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve(server));
  });
}
