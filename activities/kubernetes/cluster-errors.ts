// Errors from the Kubernetes API turned into ApplicationFailures a person can read: one sentence
// saying what Slipway tried, on which object, and the apiserver's own reason — never the client's
// dump of headers and body. Final failures (RBAC, quota, invalid objects, missing objects) are
// non-retryable; the rest (conflicts, throttling, 5xx, network errors, timeouts) are retryable
// `ClusterUnavailable` failures that Temporal's retry policy retries with backoff — or, when the
// apiserver said when to come back (`Retry-After` on a 429 or 503), after exactly that long.
import { ApiException } from '@kubernetes/client-node';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { FailureType } from '../../workflows/failures.ts';
import { inCall } from './call-ids.ts';

/** What Slipway tried: a verb on a resource (plural, lower case), in a namespace, optionally one object. */
export interface ClusterTarget {
  /** `get`, `list`, `watch`, `create`, `apply`, `dry-run apply`, `patch`, `delete`… */
  verb: string;
  /** `deployments`, `services`, `httproutes`, `virtualservices`, `namespaces`… */
  resource: string;
  namespace?: string | undefined;
  name?: string | undefined;
}

export type ClusterFailureType =
  | typeof FailureType.Forbidden
  | typeof FailureType.NotFound
  | typeof FailureType.InvalidObject
  | typeof FailureType.ClusterCapacityExhausted
  | typeof FailureType.ClusterUnavailable;

export interface ClassifiedClusterError {
  type: ClusterFailureType;
  /** Non-retryable: a retry cannot succeed. */
  final: boolean;
  /** The whole sentence. */
  message: string;
  /** HTTP status, when the apiserver answered. */
  status?: number;
  /** The Status body's `reason` (Forbidden, Invalid, NotFound…), when it had one. */
  reason?: string;
  /** The apiserver's `Retry-After` (429, 503), in milliseconds: the next attempt waits that long. */
  retryAfterMs?: number;
}

/** The longest `Retry-After` honoured as given; a larger one waits this long (the retry policy's cap). */
export const RETRY_AFTER_CAP_MS = 60_000;

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(
  headers: Record<string, string> | undefined,
  now = Date.now(),
): number | undefined {
  const value = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'retry-after')?.[1];
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  // Delay-seconds, or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`): nothing else.
  const seconds = /^\d+$/.test(text)
    ? Number(text)
    : /^[A-Za-z]{3}, /.test(text)
      ? (Date.parse(text) - now) / 1000
      : Number.NaN;
  if (!Number.isFinite(seconds)) return undefined;
  return Math.min(RETRY_AFTER_CAP_MS, Math.max(0, Math.round(seconds * 1000)));
}

const KINDS: Record<string, string> = {
  deployments: 'Deployment',
  'deployments/scale': 'Deployment scale',
  services: 'Service',
  httproutes: 'HTTPRoute',
  virtualservices: 'VirtualService',
  jobs: 'Job',
  pods: 'Pod',
  namespaces: 'Namespace',
  secrets: 'Secret',
  events: 'Event',
  resourcequotas: 'ResourceQuota',
  nodes: 'Node',
  horizontalpodautoscalers: 'HorizontalPodAutoscaler',
  servicecidrs: 'ServiceCIDR',
};

/** `Deployment team-b/m-canary`, `Namespace team-b`, or `deployments in namespace team-b`. */
export function describeTarget(target: ClusterTarget): string {
  if (target.name !== undefined) {
    const kind = KINDS[target.resource] ?? target.resource.replace(/s$/, '');
    return `${kind} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`;
  }
  return `${target.resource}${target.namespace ? ` in namespace ${target.namespace}` : ' cluster-wide'}`;
}

/** The resource's plural name for a kind (`Deployment` → `deployments`), for targets of applied objects. */
export function resourceOfKind(kind: string | undefined): string {
  const found = Object.entries(KINDS).find(([, k]) => k === kind);
  return found ? found[0] : `${(kind ?? 'object').toLowerCase()}s`;
}

interface StatusBody {
  message?: string;
  reason?: string;
  details?: { causes?: Array<{ reason?: string; message?: string; field?: string }> };
}

function parseBody(body: unknown): StatusBody | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.trim() ? { message: body.trim() } : undefined;
    }
  }
  // A Status object (its fields are read with optional chaining, so a partial one is fine).
  if (value && typeof value === 'object') return value;
  return undefined;
}

/** The HTTP status of a client-node error: an ApiException, or a watch's `Error` with `statusCode`. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  if (error instanceof Error && 'statusCode' in error && typeof error.statusCode === 'number')
    return error.statusCode;
  return undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ESOCKETTIMEDOUT',
]);

/** The network error code somewhere in the cause chain (`ECONNREFUSED`, `UND_ERR_SOCKET`…), if any. */
export function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = 'code' in current && typeof current.code === 'string' ? current.code : undefined;
    if (code && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) return code;
    if (current instanceof AggregateError) {
      for (const inner of current.errors) {
        const found = networkCodeOf(inner);
        if (found) return found;
      }
    }
    current = current.cause;
  }
  return undefined;
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'TimeoutError' || networkCodeOf(error) === 'UND_ERR_CONNECT_TIMEOUT')
  );
}

/** One line, bounded: the apiserver's messages can be long (admission webhooks) or multi-line. */
function oneLine(text: string, max = 600): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Strict field validation and server-side apply's schema check refusing unknown or duplicate fields. */
const SCHEMA_REFUSAL = /field not declared in schema|strict decoding error|unknown field "|duplicate field "/;

const RBAC =
  /cannot (\S+) resource "([^"]+)"(?: in API group "[^"]*")?(?: in the namespace "([^"]+)"| at the cluster scope)?/;

function forbiddenByRbac(target: ClusterTarget, message: string): string {
  const rbac = RBAC.exec(message);
  const verb = rbac?.[1] ?? target.verb;
  const resource = rbac?.[2] ?? target.resource;
  const namespace = rbac ? rbac[3] : target.namespace;
  const scope = namespace ? `in namespace ${namespace}` : 'cluster-wide';
  return `Slipway may not ${verb} ${resource} ${scope} (RBAC): ${message}`;
}

/**
 * Classifies an error from `@kubernetes/client-node` (or from the fetch under it). Undefined for an
 * error that is not about talking to the cluster (a bug, an already-classified failure).
 */
export function classifyClusterError(
  error: unknown,
  target: ClusterTarget,
): ClassifiedClusterError | undefined {
  if (error instanceof TemporalFailure) return undefined;
  const tried = `Slipway could not ${target.verb} ${describeTarget(target)}`;
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const body = error instanceof ApiException ? parseBody(error.body) : undefined;
    const reason = body?.reason;
    const said = oneLine(
      body?.message ??
        (error instanceof Error && !(error instanceof ApiException) ? error.message : `HTTP ${status}`),
    );
    const after =
      error instanceof ApiException && (status === 429 || status === 503)
        ? retryAfterMs(error.headers)
        : undefined;
    const base = {
      status,
      ...(reason ? { reason } : {}),
      ...(after === undefined ? {} : { retryAfterMs: after }),
    };
    const final = (type: ClusterFailureType, message: string): ClassifiedClusterError => ({
      type,
      final: true,
      message,
      ...base,
    });
    const transient = (what: string): ClassifiedClusterError => ({
      type: FailureType.ClusterUnavailable,
      final: false,
      message: `${tried}: ${what}`,
      ...base,
    });
    if (/exceeded quota/i.test(said))
      return final(FailureType.ClusterCapacityExhausted, `${tried}: a ResourceQuota is used up: ${said}`);
    if (/range is full|failed to allocate/i.test(said)) {
      return final(
        FailureType.ClusterCapacityExhausted,
        `${tried}: the cluster has no address or port left to allocate: ${said}`,
      );
    }
    if (SCHEMA_REFUSAL.test(said)) {
      // Server-side apply answers 500 to a field its schema does not declare: a fault of the object, not of the cluster.
      return final(
        FailureType.InvalidObject,
        `${tried}: the apiserver refused a field its schema does not know (HTTP ${status}): ${said}`,
      );
    }
    if (status === 401) {
      return final(
        FailureType.Forbidden,
        `${tried}: the apiserver did not accept the worker's credentials (HTTP 401 Unauthorized)`,
      );
    }
    if (status === 403) {
      if (RBAC.test(said) || !body?.message)
        return final(FailureType.Forbidden, forbiddenByRbac(target, said));
      if (/is being terminated/.test(said))
        return final(FailureType.NotFound, `${tried}: its namespace is being deleted: ${said}`);
      return final(
        FailureType.InvalidObject,
        `${tried}: the cluster's admission refused it (HTTP 403): ${said}`,
      );
    }
    if (status === 404) return final(FailureType.NotFound, `${tried}: it does not exist (${said})`);
    if (
      status === 400 ||
      status === 405 ||
      status === 406 ||
      status === 413 ||
      status === 415 ||
      status === 422
    ) {
      return final(
        FailureType.InvalidObject,
        `${tried}: the apiserver refused it as invalid (HTTP ${status}${reason ? ` ${reason}` : ''}): ${said}`,
      );
    }
    if (status === 409) return transient(`it changed meanwhile (HTTP 409 ${reason ?? 'Conflict'}): ${said}`);
    if (status === 429) return transient(`the apiserver is throttling requests (HTTP 429): ${said}`);
    if (status >= 500)
      return transient(`the apiserver answered HTTP ${status}${reason ? ` ${reason}` : ''}: ${said}`);
    // Other statuses (408, 410 outside a watch…): nothing says a retry cannot work.
    return transient(`the apiserver answered HTTP ${status}: ${said}`);
  }
  if (isTimeout(error)) {
    return {
      type: FailureType.ClusterUnavailable,
      final: false,
      message: `${tried}: the apiserver did not answer in time`,
    };
  }
  const code = networkCodeOf(error);
  if (code)
    return {
      type: FailureType.ClusterUnavailable,
      final: false,
      message: `${tried}: the apiserver is unreachable (${code})`,
    };
  if (error instanceof Error && /^Unrecognized API version and kind/.test(error.message)) {
    return {
      type: FailureType.NotFound,
      final: true,
      message: `${tried}: the cluster does not serve that kind (${oneLine(error.message)})`,
    };
  }
  return undefined;
}

/** The ApplicationFailure for a classified error; `as` overrides the type (dry-runs say DryRunFailed). */
export function toApplicationFailure(
  classified: ClassifiedClusterError,
  target: ClusterTarget,
  as?: string,
): ApplicationFailure {
  return ApplicationFailure.create({
    message: classified.message,
    type: as ?? classified.type,
    nonRetryable: classified.final,
    // The apiserver said when to try again: the activity's next attempt waits exactly that long.
    ...(classified.retryAfterMs === undefined ? {} : { nextRetryDelay: classified.retryAfterMs }),
    details: [
      {
        cause: classified.type,
        ...(classified.status === undefined ? {} : { status: classified.status }),
        ...(classified.reason ? { reason: classified.reason } : {}),
        target: describeTarget(target),
      },
    ],
  });
}

/** The error to throw instead: a classified failure, or the error itself when it is not a cluster error. */
export function asClusterFailure(
  error: unknown,
  target: ClusterTarget,
  options: { finalAs?: string } = {},
): unknown {
  const classified = classifyClusterError(error, target);
  if (!classified) return error;
  return toApplicationFailure(classified, target, classified.final ? options.finalAs : undefined);
}

/** Attempts of one call before its transient failure goes to Temporal's retry of the whole activity. */
export const CALL_ATTEMPTS = 4;

/** How long before the call's next attempt: the apiserver's Retry-After, else 200 ms doubling to 1.6 s. */
function callBackoffMs(classified: ClassifiedClusterError, attempt: number): number {
  return classified.retryAfterMs ?? 200 * 2 ** (attempt - 1);
}

/**
 * Runs one call to the cluster; its errors come out classified. A throttled (429), failing (5xx),
 * unreachable or slow apiserver is asked again, up to CALL_ATTEMPTS times, after its Retry-After or
 * a short backoff — as client-go does — so that one dropped request does not restart an activity
 * made of many. A conflict (409) is not: the caller must read again. Final errors throw at once.
 */
export async function clusterCall<T>(
  target: ClusterTarget,
  call: () => Promise<T>,
  options: { finalAs?: string; attempts?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? CALL_ATTEMPTS;
  return inCall(async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        const classified = classifyClusterError(error, target);
        if (!classified) throw error;
        if (classified.final || classified.status === 409 || attempt >= attempts)
          throw toApplicationFailure(classified, target, classified.final ? options.finalAs : undefined);
        await new Promise((resolve) => setTimeout(resolve, callBackoffMs(classified, attempt)));
      }
    }
  });
}

type Activity = (input: never) => Promise<unknown>;

/** `observeCandidate` → `observe candidate`. */
function humanize(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

function modelOf(input: unknown): ClusterTarget {
  const record = (input ?? {}) as {
    spec?: { namespace?: string; model?: string };
    namespace?: string;
    model?: string;
    name?: string;
  };
  const namespace = record.spec?.namespace ?? record.namespace;
  const name = record.spec?.model ?? record.model ?? record.name;
  return { verb: '', resource: 'models', namespace, name };
}

/**
 * The safety net of every Kubernetes and traffic activity: whatever cluster error a call site did
 * not classify itself is classified here, naming the activity and the model, so no raw ApiException
 * (with its dump of headers and body) ever leaves an activity.
 */
export function withClusterErrors<A extends Record<string, Activity>>(activities: A): A {
  const wrapped: Record<string, Activity> = {};
  for (const [name, activity] of Object.entries(activities)) {
    const run = async (input: never) => {
      try {
        return await activity(input);
      } catch (error) {
        const model = modelOf(input);
        const what = humanize(name);
        const target: ClusterTarget = { ...model, verb: model.name === undefined ? what : `${what} for` };
        throw asClusterFailure(error, target);
      }
    };
    wrapped[name] = run;
  }
  return wrapped as A;
}
