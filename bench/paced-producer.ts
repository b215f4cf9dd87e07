// The paced producer of the half-rate runs, in its own process: sharing the engine's event
// loop would delay both, and its CPU and memory would count as the engine's.
import { fork, type ChildProcess } from 'node:child_process';
import { createKafka } from '../src/source/kafka';
import { producePaced, type ProduceResult } from './produce';
import type { WorkloadSpec } from './workload';

interface Start { topic: string; spec: WorkloadSpec; rate: number }
type Report =
  | { type: 'progress'; sent: number }
  | { type: 'done'; result: Omit<ProduceResult, 'samples'> & { samples: [string, number][] } }
  | { type: 'failed'; message: string };

export interface PacedProducer {
  readonly sent: () => number;
  readonly done: Promise<ProduceResult>;
  stop(): void;
}

export function startPacedProducer(o: Start): PacedProducer {
  const child: ChildProcess = fork(__filename, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  let sent = 0;
  const done = new Promise<ProduceResult>((resolve, reject) => {
    child.on('message', (m: Report) => {
      if (m.type === 'progress') sent = m.sent;
      else if (m.type === 'done') resolve({ ...m.result, samples: new Map(m.result.samples) });
      else reject(new Error(`paced producer: ${m.message}`));
    });
    child.on('exit', (code, signal) => reject(new Error(`paced producer exited (${signal ?? `code ${code}`}) before it reported`)));
  });
  done.catch(() => undefined);
  child.send(o);
  let finished = false;
  done.then(() => (finished = true), () => (finished = true));
  // Stopping a producer that already reported would only race its exit.
  return { sent: () => sent, done, stop: () => void (finished || child.kill('SIGTERM')) };
}

if (require.main === module) {
  const abort = new AbortController();
  process.on('SIGTERM', () => abort.abort());
  process.once('message', (o: Start) => {
    const send = (r: Report, then?: () => void) => process.send?.(r, undefined, {}, () => then?.());
    let last = 0;
    producePaced({
      kafka: createKafka('tracklane-bench-paced'),
      ...o,
      signal: abort.signal,
      onProgress: (n) => {
        if (Date.now() - last > 200) {
          last = Date.now();
          send({ type: 'progress', sent: n });
        }
      },
    })
      // Disconnect only once the report is written: the parent waits for it.
      .then(
        (r) => send({ type: 'done', result: { ...r, samples: [...r.samples] } }, () => process.disconnect?.()),
        (err: Error) => send({ type: 'failed', message: err.message }, () => process.disconnect?.()),
      );
  });
}
