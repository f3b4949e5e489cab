// What reading release statuses costs Temporal, counted by call: `describe` (the run's description,
// answered by Temporal alone), `query` (the status query, answered by a worker) and `history` (a
// page or long-poll of a run's history). Exported as slipway_api_status_temporal_calls_total; the
// bench and the tests read the same counts.
import { Counter, type Registry } from 'prom-client';

export type StatusCall = 'describe' | 'query' | 'history';

export class StatusCalls {
  readonly counts: Record<StatusCall, number> = { describe: 0, query: 0, history: 0 };
  private readonly counter: Counter<'call'> | undefined;

  constructor(registry?: Registry) {
    this.counter = registry
      ? new Counter({
          name: 'slipway_api_status_temporal_calls_total',
          help: 'Temporal calls made to read release statuses, by call (describe, query, history)',
          labelNames: ['call'],
          registers: [registry],
        })
      : undefined;
  }

  count(call: StatusCall): void {
    this.counts[call]++;
    this.counter?.inc({ call });
  }
}
