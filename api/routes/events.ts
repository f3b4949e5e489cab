// A release's status as Server-Sent Events: the status is read every POLL_MS and sent when it
// changed; `end` follows once the release has ended. Stops when the client goes away, and when the
// server shuts down (`closing`), so a shutdown never waits on open streams; clients reconnect.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemError } from '../errors.ts';
import { unavailableSentence } from '../unavailable.ts';

const POLL_MS = 500;
const KEEPALIVE_MS = 15_000;

interface StatusLike {
  stage?: string;
  outcome?: unknown;
}

/** One clean sentence for a client (a ProblemError's own, never a raw client error). */
function streamErrorDetail(error: unknown): string {
  if (error instanceof ProblemError) return error.message;
  return unavailableSentence(error) ?? "the release's status could not be read; reconnect to try again";
}

export async function followRelease(
  request: FastifyRequest,
  reply: FastifyReply,
  read: () => Promise<StatusLike>,
  closing: AbortSignal,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let open = true;
  request.raw.on('close', () => (open = false));
  closing.addEventListener('abort', () => (open = false), { once: true });
  const send = (event: string, data: string) => open && raw.write(`event: ${event}\ndata: ${data}\n\n`);
  let last = '';
  let lastWrite = Date.now();
  try {
    while (open) {
      let status: StatusLike;
      try {
        status = await read();
      } catch (error) {
        send('error', JSON.stringify({ detail: streamErrorDetail(error) }));
        request.log.warn({ err: error }, 'event stream ended by an error');
        break;
      }
      const json = JSON.stringify(status);
      if (json !== last) {
        send('status', json);
        last = json;
        lastWrite = Date.now();
      } else if (Date.now() - lastWrite > KEEPALIVE_MS) {
        if (open) raw.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      if (status.outcome !== undefined || status.stage === 'done') {
        send('end', '{}');
        break;
      }
      await sleep(POLL_MS, undefined, { signal: closing }).catch(() => undefined);
    }
  } finally {
    raw.end();
  }
}
