import type { Metrics } from '../metrics';
import type { Topology } from '../../topology/types';
import { statusAsset, type StaticAsset } from './assets';
import { statusDocument, type StatusDocument } from './document';
import { StatusHistory, type StatusHistoryOptions } from './history';
import { renderStatusPage } from './page';

export type { StatusDocument } from './document';
export { StatusHistory } from './history';

/** What startHttpServer serves besides /metrics and the probes; `stop()` ends the sampler. */
export interface StatusPage {
  statusPage(): string;
  statusJson(): StatusDocument;
  asset(name: string): StaticAsset | undefined;
  stop(): void;
}

/**
 * The engine's status page: starts sampling the metrics now (every 5 s, last 720 samples)
 * and returns plain functions, so the result can be spread into startHttpServer's status.
 */
export function createStatusPage(topology: Topology, metrics: Metrics, o: StatusHistoryOptions = {}): StatusPage {
  const history = new StatusHistory(topology, metrics, o);
  const now = o.now ?? Date.now;
  history.start();
  const statusJson = (): StatusDocument =>
    statusDocument(topology, history.samples(), { sampleIntervalMs: history.intervalMs, capacity: history.capacity, now: now() });
  return {
    statusPage: () => renderStatusPage(statusJson()),
    statusJson,
    asset: statusAsset,
    stop: () => history.stop(),
  };
}
