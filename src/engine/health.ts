import type { Logger } from '../observability/logger';
import { UserError } from '../errors';

/** How long a crashed consumer (or a fenced producer) may stay away before the process gives up. */
export const DEFAULT_RECOVERY_BOUND_MS = 60_000;

/**
 * What keeps the engine from being ready although it runs: a crashed consumer that kafkajs
 * is restarting, a transactional producer that a newer one fenced. /readyz answers 503 while
 * any problem is open; a problem still open after the bound gives up (the process exits, so
 * an orchestrator restarts it) instead of sitting there half alive.
 */
export class Health {
  private readonly open = new Map<string, NodeJS.Timeout>();

  constructor(private readonly o: { boundMs: number; log: Logger; giveUp(problem: string, err: unknown): void }) {}

  get ok(): boolean {
    return this.open.size === 0;
  }

  get problems(): string[] {
    return [...this.open.keys()];
  }

  down(problem: string, err: unknown): void {
    if (this.open.has(problem)) return;
    this.o.log.error({ problem, error: (err as Error)?.name, message: (err as Error)?.message, boundMs: this.o.boundMs }, 'not ready: waiting for recovery');
    this.open.set(problem, setTimeout(() => this.o.giveUp(problem, err), this.o.boundMs));
  }

  up(problem: string): void {
    const timer = this.open.get(problem);
    if (!timer) return;
    clearTimeout(timer);
    this.open.delete(problem);
    this.o.log.info({ problem }, 'recovered');
  }

  /** Clears every open problem whose name starts with `prefix` and that `keep` rejects. */
  upWhere(prefix: string, keep: (problem: string) => boolean): void {
    for (const problem of this.problems) if (problem.startsWith(prefix) && !keep(problem)) this.up(problem);
  }

  close(): void {
    for (const timer of this.open.values()) clearTimeout(timer);
    this.open.clear();
  }
}

/** TRACKLANE_CONSUMER_RESTART_TIMEOUT: "60s", "90000ms", "2m" or seconds as a bare number. */
export function recoveryBoundFromEnv(env: NodeJS.ProcessEnv): number {
  const text = env.TRACKLANE_CONSUMER_RESTART_TIMEOUT?.trim();
  if (!text) return DEFAULT_RECOVERY_BOUND_MS;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text);
  if (!m) throw new UserError(`TRACKLANE_CONSUMER_RESTART_TIMEOUT=${text}: expected a duration such as 60s, 90000ms or 2m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm'];
}
