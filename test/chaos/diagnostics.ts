import { Redis } from 'ioredis';
import { keys as keysFor } from '../../src/state/keys';
import { HISTORY_CHUNK_BUCKETS } from '../../src/window/store';
import { MIN } from './stream';
import type { SloModel, Truth } from './truth';

// When the alerts differ from the model: what the engine's Redis state says, next to the
// truth, so the difference can be placed (history the evaluator read, or the transitions).

export async function alertDiagnostics(redisUrl: string, topology: string, truth: Truth, t0: number, slos: SloModel[]): Promise<string> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const k = keysFor(topology);
  const out: string[] = ['alert diagnostics:'];
  try {
    await redis.connect();
    out.push(`wm: ${JSON.stringify(await redis.hmget(k.windowMeta(), 'closed', 'evaluated', 'first'))} (t0 ${t0})`);
    for (const slo of slos) out.push(`al:${slo.name} ${JSON.stringify(await redis.hgetall(k.alertState(slo.name)))}`);
    for (const [name, counts] of truth.series) {
      const [sli, labels] = name.split('|');
      const wrong: string[] = [];
      for (let m = 0; m < counts.total.length; m++) {
        const idx = (t0 + m * MIN) / MIN;
        const chunk = Math.floor(idx / HISTORY_CHUNK_BUCKETS);
        const data = await redis.getBuffer(k.sliHistory(sli, labels, chunk));
        const at = (idx - chunk * HISTORY_CHUNK_BUCKETS) * 8;
        const good = data && at + 8 <= data.length ? data.readUInt32BE(at) : 0;
        const total = data && at + 8 <= data.length ? data.readUInt32BE(at + 4) : 0;
        if (total !== counts.total[m] || total - good !== counts.bad[m]) wrong.push(`m${m}: ${total - good}/${total} != ${counts.bad[m]}/${counts.total[m]}`);
      }
      out.push(`history ${name}: ${wrong.length === 0 ? 'equal to the truth' : `${wrong.length} buckets differ: ${wrong.slice(0, 8).join(', ')}`}`);
    }
  } catch (err) {
    out.push(`could not read Redis: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
  return out.join('\n');
}
