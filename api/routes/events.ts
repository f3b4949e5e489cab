// A release's status as Server-Sent Events: `status` with the status each time it changed, `end`
// once the release has ended, `error` (one clean sentence) when it cannot be read any more. The
// statuses come from a StatusFeed (the shared view's follower, or a per-stream poll when shared
// views are off). Stops when the client goes away, and when the server shuts down (`closing`), so
// a shutdown never waits on open streams; clients reconnect.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReleaseView } from '../ended-release.ts';
import { ProblemError } from '../errors.ts';
import type { StatusFeed } from '../status-feed.ts';
import { unavailableSentence } from '../unavailable.ts';

const KEEPALIVE_MS = 15_000;

/** One clean sentence for a client (a ProblemError's own, never a raw client error). */
function streamErrorDetail(error: unknown): string {
  if (error instanceof ProblemError) return error.message;
  return unavailableSentence(error) ?? "the release's status could not be read; reconnect to try again";
}

export async function followRelease(
  request: FastifyRequest,
  reply: FastifyReply,
  feed: StatusFeed,
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
  const finished = Promise.withResolvers<void>();
  const finish = () => {
    open = false;
    finished.resolve();
  };
  const send = (event: string, data: string) => open && raw.write(`event: ${event}\ndata: ${data}\n\n`);
  let last = '';
  let lastWrite = Date.now();
  request.raw.on('close', finish);
  closing.addEventListener('abort', finish, { once: true });
  const keepAlive = setInterval(() => {
    if (open && Date.now() - lastWrite >= KEEPALIVE_MS) {
      raw.write(': keep-alive\n\n');
      lastWrite = Date.now();
    }
  }, KEEPALIVE_MS / 3);
  const stop = feed({
    view(status: ReleaseView) {
      if (!open) return;
      const json = JSON.stringify(status);
      if (json !== last) {
        send('status', json);
        last = json;
        lastWrite = Date.now();
      }
      if (status.outcome !== undefined || status.stage === 'done') {
        send('end', '{}');
        finish();
      }
    },
    error(error: unknown) {
      if (!open) return;
      send('error', JSON.stringify({ detail: streamErrorDetail(error) }));
      request.log.warn({ err: error }, 'event stream ended by an error');
      finish();
    },
  });
  try {
    await finished.promise;
  } finally {
    stop();
    clearInterval(keepAlive);
    closing.removeEventListener('abort', finish);
    request.raw.off('close', finish);
    raw.end();
  }
}
