// Run-time CEL failures on single events (a field of the wrong type in one event, `size()` of
// null...). They are not bad data: the event is still enriched and delivered. The SLI decides
// what the failure means for the event (src/window/classify.ts); here each one is counted per
// expression and logged at most once a minute per expression, with how many were not logged,
// so a broken expression shows up without a log line per event.

import { CelEvaluationError } from './cel';

export interface ExpressionErrorCounter {
  inc(labels: { expression: string }, value?: number): void;
}

export interface ExpressionErrorLog {
  warn(obj: object, msg: string): void;
}

export interface ExpressionErrorsOptions {
  /** tracklane_expression_errors_total{expression}. */
  counter?: ExpressionErrorCounter;
  log?: ExpressionErrorLog;
  now?: () => number;
  logIntervalMs?: number;
}

export const EXPRESSION_ERROR_LOG_INTERVAL_MS = 60_000;

export class ExpressionErrors {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();
  private readonly now: () => number;
  private readonly interval: number;

  constructor(private readonly o: ExpressionErrorsOptions = {}) {
    this.now = o.now ?? Date.now;
    this.interval = o.logIntervalMs ?? EXPRESSION_ERROR_LOG_INTERVAL_MS;
  }

  /** Every series that can be seen exists from the start, at 0. Names are bounded: `<sli>.good` etc. */
  declare(expressions: readonly string[]): void {
    for (const expression of expressions) this.o.counter?.inc({ expression }, 0);
  }

  report(expression: string, err: unknown): void {
    this.o.counter?.inc({ expression });
    const now = this.now();
    const last = this.lastLogged.get(expression);
    if (last && now - last.at < this.interval) {
      last.suppressed++;
      return;
    }
    this.lastLogged.set(expression, { at: now, suppressed: 0 });
    const code = err instanceof CelEvaluationError ? err.code : 'evaluation_failed';
    // The message names the expression and the CEL error, never the event's values.
    const error = err instanceof Error ? err.message : String(err);
    this.o.log?.warn(
      { expression, code, error, suppressedSinceLastLog: last?.suppressed ?? 0 },
      'a CEL expression failed on an event; counted in tracklane_expression_errors_total (logged at most once a minute per expression)',
    );
  }
}
