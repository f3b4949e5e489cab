// Every Job created in the chaos run's namespace, seen through a watch that runs for the whole run
// (listed first, resumed from the last resourceVersion when the server closes it, listed again at
// the end): a Job created, deleted and created again under the same name has two uids, so
// "no duplicate Jobs" means one uid per release that runs a Job, and none for the others.
import * as k8s from '@kubernetes/client-node';
import { LABEL_NAME, LABEL_VERSION } from '../../activities/kubernetes/labels.ts';

export interface JobLedger {
  /** Distinct Job uids created for `model/version`. */
  uidsOf(model: string, version: string): number;
  /** Every Job seen: `model/version` → its names (for the report). */
  all(): Record<string, string[]>;
  /** Lists once more and stops watching. */
  stop(): Promise<void>;
}

export async function watchJobs(kc: k8s.KubeConfig, namespace: string): Promise<JobLedger> {
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const seen = new Map<string, Map<string, string>>(); // model/version → uid → name
  const note = (job: k8s.V1Job) => {
    const labels = job.metadata?.labels ?? {};
    const key = `${labels[LABEL_NAME] ?? '?'}/${labels[LABEL_VERSION] ?? '?'}`;
    const uids = seen.get(key) ?? new Map<string, string>();
    uids.set(job.metadata?.uid ?? '?', job.metadata?.name ?? '?');
    seen.set(key, uids);
  };
  const list = async () => {
    const jobs = await batch.listNamespacedJob({ namespace });
    jobs.items.forEach(note);
    return jobs.metadata?.resourceVersion;
  };

  const watch = new k8s.Watch(kc);
  let resourceVersion = await list();
  let controller: AbortController | undefined;
  let stopped = false;
  const open = async (): Promise<void> => {
    if (stopped) return;
    controller = await watch.watch(
      `/apis/batch/v1/namespaces/${namespace}/jobs`,
      resourceVersion ? { resourceVersion, allowWatchBookmarks: true } : {},
      (phase: string, object: k8s.V1Job) => {
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        if (phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED') note(object);
      },
      () => {
        if (stopped) return;
        // Closed or failed (e.g. 410 Gone): list again (nothing listed is lost) and watch from there.
        setTimeout(() => {
          void list()
            .then((rv) => (resourceVersion = rv))
            .catch(() => (resourceVersion = undefined))
            .then(open)
            .catch(() => undefined);
        }, 200);
      },
    );
  };
  await open();
  return {
    uidsOf: (model, version) => seen.get(`${model}/${version}`)?.size ?? 0,
    all: () => Object.fromEntries([...seen].map(([key, uids]) => [key, [...uids.values()]])),
    async stop() {
      await list().catch(() => undefined);
      stopped = true;
      controller?.abort();
    },
  };
}
