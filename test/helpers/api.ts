// The API on the real stack for e2e tests: a worker on a unique task queue (real activities on the
// local cluster), the Fastify app listening on a loopback port, and tokens for each role.
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createKubernetesClients } from '../../activities/kubernetes/clients.ts';
import { buildApp } from '../../api/app.ts';
import { sha256Hex, TokenAuthenticator, type Role } from '../../api/auth/tokens.ts';
import type { TestNamespace } from './cluster.ts';
import { startRealWorker, uniqueTaskQueue } from './temporal.ts';

/** `admin2` is a second admin (subject eve-admin): someone other than the submitter who may approve. */
export type TestTokens = Record<'admin' | 'admin2' | 'viewer' | 'deployer' | 'approver' | 'outsider', string>;

export interface ApiUnderTest {
  app: FastifyInstance;
  url: string;
  /** The task queue of its worker (releases started through this API run there). */
  taskQueue: string;
  tokens: TestTokens;
  /** Everything the API logged. */
  logs: () => string;
  stop(): Promise<void>;
  /** Terminates releases still running on its task queue (test cleanup; nothing to roll back in a test namespace that is deleted next). */
  terminateLeftovers(): Promise<void>;
}

export interface StartApiOptions {
  /** To restart an API where it was: same port, same worker task queue, same tokens. */
  port?: number;
  taskQueue?: string;
  tokens?: TestTokens;
}

export async function startApi(
  env: TestWorkflowEnvironment,
  ns: TestNamespace,
  options: StartApiOptions = {},
): Promise<ApiUnderTest> {
  const taskQueue = options.taskQueue ?? uniqueTaskQueue('api');
  const worker = await startRealWorker(env, taskQueue, ns.kc, { withTemporalClient: true });
  const random = () => `tok-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const tokens = options.tokens ?? {
    admin: random(),
    admin2: random(),
    viewer: random(),
    deployer: random(),
    approver: random(),
    outsider: random(),
  };
  const entry = (token: string, subject: string, roles: Role[], namespaces?: string[]) => ({
    subject,
    roles,
    tokenSha256: sha256Hex(token),
    ...(namespaces ? { namespaces } : {}),
  });
  let logs = '';
  const app = await buildApp({
    client: env.client,
    kubernetes: createKubernetesClients(ns.kc),
    authenticator: new TokenAuthenticator([
      entry(tokens.admin, 'ada-admin', ['admin']),
      entry(tokens.admin2, 'eve-admin', ['admin']),
      entry(tokens.viewer, 'vic-viewer', ['viewer']),
      entry(tokens.deployer, 'dee-deployer', ['deployer'], [ns.name]),
      entry(tokens.approver, 'abe-approver', ['approver'], [ns.name]),
      entry(tokens.outsider, 'otto-outsider', ['approver', 'deployer'], ['some-other-namespace']),
    ]),
    taskQueue,
    logLevel: 'info',
    logStream: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs += chunk.toString();
        done();
      },
    }),
  });
  await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    url,
    taskQueue,
    tokens,
    logs: () => logs,
    async stop() {
      await app.close();
      await worker.stop();
    },
    async terminateLeftovers() {
      // Releases a test left open (e.g. waiting at a pause) would stay open in the dev server forever.
      for await (const w of env.client.workflow.list({
        query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
      })) {
        await env.client.workflow
          .getHandle(w.workflowId, w.runId)
          .terminate('test finished')
          .catch(() => undefined);
      }
    },
  };
}

/** A JSON request with a bearer token; returns status and parsed body. */
export async function call(
  api: ApiUnderTest,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string; contentType?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${api.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return {
    status: response.status,
    body: json as Record<string, unknown> & {
      issues?: Array<{ path: string; message: string }>;
      detail?: string;
    },
    contentType: response.headers.get('content-type') ?? '',
  };
}
