// A release's statuses as a stream feeds them: `listener.view` with each status read, `error` once
// it cannot be read. Shared views feed every stream from one follower (StatusViews.watch); with
// them off (SLIPWAY_STATUS_VIEW=off) each stream reads for itself every POLL_MS, as it used to.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReleaseView } from './ended-release.ts';
import type { ViewListener } from './release-view.ts';

export type { ViewListener };

/** Starts feeding `listener`; returns the stop. */
export type StatusFeed = (listener: ViewListener) => () => void;

const POLL_MS = 500;

/** One reader's polling loop: reads every `pollMs` until stopped or a read fails. */
export function pollingFeed(read: () => Promise<ReleaseView>, pollMs = POLL_MS): StatusFeed {
  return (listener) => {
    const stop = new AbortController();
    void (async () => {
      while (!stop.signal.aborted) {
        let view: ReleaseView;
        try {
          view = await read();
        } catch (error) {
          if (!stop.signal.aborted) listener.error(error);
          return;
        }
        if (stop.signal.aborted) return;
        listener.view(view);
        await sleep(pollMs, undefined, { signal: stop.signal }).catch(() => undefined);
      }
    })();
    return () => stop.abort();
  };
}
