// One id per logical call to the cluster, sent as a header on every attempt of it, so that the
// apiserver side (an audit log, the fault proxy) can tell a retry of a request from another
// caller's identical request. A call is what `clusterCall` or `watchUntil` runs: its attempts
// share the id; calls nested inside one keep the outer id.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { Middleware, RequestContext, ResponseContext } from '@kubernetes/client-node';

export const CALL_ID_HEADER = 'x-slipway-call';

const current = new AsyncLocalStorage<string>();

/** Runs `call` as one logical call: requests made inside it carry one id. */
export function inCall<T>(call: () => Promise<T>): Promise<T> {
  if (current.getStore() !== undefined) return call();
  return current.run(randomUUID(), call);
}

/** Client middleware: sets the call id header on every request made inside `inCall`. */
export const callIdMiddleware: Middleware = {
  pre(context: RequestContext): Promise<RequestContext> {
    const id = current.getStore();
    if (id !== undefined) context.setHeaderParam(CALL_ID_HEADER, id);
    return Promise.resolve(context);
  },
  post(context: ResponseContext): Promise<ResponseContext> {
    return Promise.resolve(context);
  },
};
