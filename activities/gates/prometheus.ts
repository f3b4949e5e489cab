// A minimal Prometheus HTTP API client (instant and range queries).
import { z } from 'zod';

const Sample = z.tuple([z.number(), z.string()]);
const QueryResponse = z.object({
  status: z.enum(['success', 'error']),
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
}

export class PrometheusClient {
  private readonly options: PrometheusClientOptions;

  constructor(options: PrometheusClientOptions) {
    this.options = options;
  }

  private async get(path: string, params: Record<string, string>): Promise<z.infer<typeof QueryResponse>['data']> {
    const url = new URL(path, this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    const response = await fetch(url, {
      headers: this.options.headers ?? {},
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new PrometheusError(`Prometheus answered HTTP ${response.status} with a body that is not JSON`);
    }
    const parsed = QueryResponse.safeParse(json);
    if (!parsed.success) throw new PrometheusError(`unexpected Prometheus response: ${parsed.error.message}`);
    if (parsed.data.status === 'error') throw new PrometheusError(`Prometheus query failed: ${parsed.data.error ?? 'unknown error'}`);
    return parsed.data.data;
  }

  /** Instant query: the values of the result vector (a scalar result gives one value). */
  async query(promql: string, time?: Date): Promise<number[]> {
    const data = await this.get('api/v1/query', { query: promql, ...(time ? { time: String(time.getTime() / 1000) } : {}) });
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
