// A minimal Prometheus HTTP API client (instant and range queries). A query Prometheus refuses
// (HTTP 400, bad_data) is a misconfiguration of the gate: final. Anything else that goes wrong
// (refused, reset, timeout, 5xx, an answer that is not Prometheus's) is a transient Error with a
// one-line message.
import { z } from 'zod';
import { gateMisconfigured } from './misconfiguration.ts';
import type { ProviderDeps } from './provider.ts';

const Sample = z.tuple([z.number(), z.string()]);
const QueryResponse = z.object({
  status: z.enum(['success', 'error']),
  errorType: z.string().optional(),
  error: z.string().optional(),
  data: z
    .object({
      resultType: z.enum(['vector', 'matrix', 'scalar', 'string']),
      result: z.unknown(),
    })
    .optional(),
});
const Vector = z.array(z.object({ metric: z.record(z.string(), z.string()), value: Sample }));
const Matrix = z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(Sample) }));

export class PrometheusError extends Error {}

export interface PrometheusClientOptions {
  url: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The client for a gate, or a GateMisconfigured failure when the worker has no PROMETHEUS_URL. */
export function prometheusFor(deps: ProviderDeps, signal?: AbortSignal): PrometheusClient {
  if (!deps.prometheusUrl)
    throw gateMisconfigured(
      'PROMETHEUS_URL is not configured on the worker, so prometheus and judge gates cannot be measured',
    );
  return new PrometheusClient({ url: deps.prometheusUrl, ...(signal ? { signal } : {}) });
}

/** Why a request did not get an answer, in a few words: the error code or a timeout. */
export function fetchFailure(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  let current: unknown = error;
  let innermost = error instanceof Error ? error.message : String(error);
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if ('code' in current && typeof current.code === 'string') return current.code;
    innermost = current.message;
    current = current.cause;
  }
  return innermost.replace(/\s+/g, ' ');
}

export class PrometheusClient {
  private readonly options: PrometheusClientOptions;

  constructor(options: PrometheusClientOptions) {
    this.options = options;
  }

  private async get(
    path: string,
    params: Record<string, string>,
  ): Promise<z.infer<typeof QueryResponse>['data']> {
    const base = this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`;
    const url = new URL(path, base);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 10_000);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        headers: this.options.headers ?? {},
        signal: this.options.signal ? AbortSignal.any([timeout, this.options.signal]) : timeout,
      });
      text = await response.text();
    } catch (error) {
      if (this.options.signal?.aborted) throw this.options.signal.reason;
      throw new PrometheusError(`Prometheus at ${base} could not be asked: ${fetchFailure(error)}`, {
        cause: error,
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PrometheusError(
        `Prometheus at ${base} answered HTTP ${response.status} with a body that is not JSON`,
      );
    }
    const parsed = QueryResponse.safeParse(json);
    if (!parsed.success)
      throw new PrometheusError(
        `Prometheus at ${base} answered HTTP ${response.status} with an unexpected body`,
      );
    if (parsed.data.status === 'error') {
      const said = (parsed.data.error ?? 'unknown error').replace(/\s+/g, ' ');
      if (response.status === 400) {
        throw gateMisconfigured(
          `Prometheus refuses the query ${JSON.stringify(params.query ?? '')}: ${said}`,
          { errorType: parsed.data.errorType },
        );
      }
      throw new PrometheusError(
        `Prometheus query failed (HTTP ${response.status}${parsed.data.errorType ? ` ${parsed.data.errorType}` : ''}): ${said}`,
      );
    }
    return parsed.data.data;
  }

  /** Instant query: the values of the result vector (a scalar result gives one value). */
  async query(promql: string, time?: Date): Promise<number[]> {
    const data = await this.get('api/v1/query', {
      query: promql,
      ...(time ? { time: String(time.getTime() / 1000) } : {}),
    });
    if (!data) return [];
    if (data.resultType === 'scalar') return [Number(Sample.parse(data.result)[1])];
    return Vector.parse(data.result).map((s) => Number(s.value[1]));
  }

  /** Range query: every value of every series, in time order per series. */
  async queryRange(promql: string, start: Date, end: Date, stepSeconds: number): Promise<number[]> {
    const data = await this.get('api/v1/query_range', {
      query: promql,
      start: String(start.getTime() / 1000),
      end: String(end.getTime() / 1000),
      step: String(stepSeconds),
    });
    if (!data) return [];
    return Matrix.parse(data.result).flatMap((series) => series.values.map(([, v]) => Number(v)));
  }
}
