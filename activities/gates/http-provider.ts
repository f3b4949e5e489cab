// The `http` gate provider: asks an evaluator over HTTP and reads the number at a JSON path.
// Headers come from literals, a Secret in the release's namespace, or the worker's environment.
// A header reference that cannot be resolved (no such Secret or key, a Secret the worker may not
// read, an unset env var) is a GateMisconfigured failure, final. Other errors (timeout, refused,
// 4xx/5xx, body not JSON) are thrown so Temporal retries them; no message carries a header value.
import type { HeaderValue, HttpGate } from '../../workflows/spec/index.ts';
import { clusterCall } from '../kubernetes/cluster-errors.ts';
import { apiStatus, type KubernetesClients } from '../kubernetes/clients.ts';
import { numericValue, selectJsonPath } from './json-path.ts';
import { gateMisconfigured } from './misconfiguration.ts';
import { fetchFailure } from './prometheus.ts';
import type { MeasureContext, ProviderDeps, RawMeasurement } from './provider.ts';
import { renderTemplate, templateContext } from './template.ts';

async function secretValue(
  clients: KubernetesClients,
  namespace: string,
  name: string,
  key: string,
): Promise<string> {
  const secret = await clusterCall({ verb: 'get', resource: 'secrets', namespace, name }, async () => {
    try {
      return await clients.core.readNamespacedSecret({ name, namespace });
    } catch (error) {
      if (apiStatus(error) === 404) throw gateMisconfigured(`Secret ${namespace}/${name} does not exist`);
      if (apiStatus(error) === 403)
        throw gateMisconfigured(`the worker may not read Secret ${namespace}/${name} (RBAC)`);
      throw error;
    }
  });
  const encoded = secret.data?.[key];
  if (encoded === undefined) throw gateMisconfigured(`Secret ${namespace}/${name} has no key ${key}`);
  return Buffer.from(encoded, 'base64').toString('utf8');
}

/** The request's headers, resolved. Throws naming the reference (never the value) when one is missing. */
export async function resolveHeaders(
  headers: Record<string, HeaderValue> | undefined,
  namespace: string,
  deps: ProviderDeps,
): Promise<Record<string, string>> {
  const resolved: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (typeof value === 'string') resolved[name] = value;
    else if ('secretRef' in value)
      resolved[name] = await secretValue(
        deps.kubernetes,
        namespace,
        value.secretRef.name,
        value.secretRef.key,
      );
    else {
      const fromEnv = (deps.env ?? process.env)[value.env];
      if (fromEnv === undefined)
        throw gateMisconfigured(`header ${name}: environment variable ${value.env} is not set on the worker`);
      resolved[name] = fromEnv;
    }
  }
  return resolved;
}

/** Why a fetch failed, without the request's headers: the error's code, or a timeout. */
function describeFetchError(error: unknown, url: string, timeout: string): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return `no answer from ${url} within ${timeout}`;
  return `request to ${url} failed: ${fetchFailure(error)}`;
}

export async function measureByHttp(
  gate: HttpGate,
  context: MeasureContext,
  deps: ProviderDeps,
): Promise<RawMeasurement> {
  const http = gate.http;
  const template = templateContext(context, gate);
  const url = renderTemplate(http.url, template, encodeURIComponent);
  const body = http.body === undefined ? undefined : renderTemplate(http.body, template);
  const headers = await resolveHeaders(http.headers, context.spec.namespace, deps);
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  const at = new Date().toISOString();
  let response: Response;
  try {
    response = await fetch(url, {
      method: http.method,
      headers: { accept: 'application/json', ...headers },
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.any([AbortSignal.timeout(http.timeout.ms), context.signal]),
    });
  } catch (error) {
    if (context.signal.aborted) throw context.signal.reason;
    throw new Error(describeFetchError(error, url, http.timeout.text), { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`evaluator ${url} answered HTTP ${response.status}`);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error(`evaluator ${url} answered HTTP ${response.status} with a body that is not JSON`);
  }
  const found = selectJsonPath(document, http.value);
  const value = numericValue(found);
  return {
    gate: gate.name,
    at,
    provider: 'http',
    query: `${http.method} ${url}`,
    value: value ?? null,
    ...(value === undefined
      ? {
          reason:
            found === undefined
              ? `no value at ${http.value}`
              : `the value at ${http.value} is not a number (${JSON.stringify(found).slice(0, 60)})`,
        }
      : {}),
    details: { httpStatus: response.status, path: http.value },
  };
}
