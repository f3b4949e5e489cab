// The Secrets and ConfigMaps a pod template names (env, envFrom, volumes, projected volumes,
// imagePullSecrets), each at the spec path a person wrote it, and which of them do not exist. A
// missing one would leave the pods in CreateContainerConfigError (or ContainerCreating) until the
// progress deadline; the preflight refuses the release instead, before anything changes. Only
// metadata is read (never a Secret's data).
import { setHeaderOptions, type V1Container, type V1PodSpec, type V1Volume } from '@kubernetes/client-node';
import { clusterCall } from './cluster-errors.ts';
import { apiStatus, type KubernetesClients } from './clients.ts';

export interface PodReference {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  /** Where the spec names it, e.g. `serving.template.spec.containers.0.env.2.valueFrom.secretKeyRef`. */
  path: string;
}

interface Optional {
  optional?: boolean;
}

function containerReferences(container: V1Container, at: string): PodReference[] {
  const refs: PodReference[] = [];
  const add = (kind: PodReference['kind'], ref: ({ name?: string } & Optional) | undefined, path: string) => {
    if (ref?.name && !ref.optional) refs.push({ kind, name: ref.name, path });
  };
  container.env?.forEach((variable, i) => {
    add('Secret', variable.valueFrom?.secretKeyRef, `${at}.env.${i}.valueFrom.secretKeyRef`);
    add('ConfigMap', variable.valueFrom?.configMapKeyRef, `${at}.env.${i}.valueFrom.configMapKeyRef`);
  });
  container.envFrom?.forEach((source, i) => {
    add('Secret', source.secretRef, `${at}.envFrom.${i}.secretRef`);
    add('ConfigMap', source.configMapRef, `${at}.envFrom.${i}.configMapRef`);
  });
  return refs;
}

function volumeReferences(volume: V1Volume, at: string): PodReference[] {
  const refs: PodReference[] = [];
  if (volume.secret?.secretName && !volume.secret.optional)
    refs.push({ kind: 'Secret', name: volume.secret.secretName, path: `${at}.secret` });
  if (volume.configMap?.name && !volume.configMap.optional)
    refs.push({ kind: 'ConfigMap', name: volume.configMap.name, path: `${at}.configMap` });
  volume.projected?.sources?.forEach((source, i) => {
    if (source.secret?.name && !source.secret.optional)
      refs.push({ kind: 'Secret', name: source.secret.name, path: `${at}.projected.sources.${i}.secret` });
    if (source.configMap?.name && !source.configMap.optional)
      refs.push({
        kind: 'ConfigMap',
        name: source.configMap.name,
        path: `${at}.projected.sources.${i}.configMap`,
      });
  });
  return refs;
}

/** Every Secret and ConfigMap `pod` needs to start, at its path under `prefix` (e.g. `serving.template.spec`). */
export function podReferences(pod: V1PodSpec | undefined, prefix: string): PodReference[] {
  if (!pod) return [];
  return [
    ...(['initContainers', 'containers'] as const).flatMap((field) =>
      (pod[field] ?? []).flatMap((c, i) => containerReferences(c, `${prefix}.${field}.${i}`)),
    ),
    ...(pod.volumes ?? []).flatMap((v, i) => volumeReferences(v, `${prefix}.volumes.${i}`)),
    // An image pull Secret that is missing fails only private pulls; the kubelet still tries: not refused.
  ];
}

const METADATA_ONLY = setHeaderOptions(
  'Accept',
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
);

/**
 * The references among `refs` that name no object in `namespace`. A read Slipway may not make (403)
 * is not a refusal: the check is skipped for that kind, and the kubelet has the last word.
 */
export async function missingReferences(
  clients: KubernetesClients,
  namespace: string,
  refs: readonly PodReference[],
): Promise<PodReference[]> {
  const unique = new Map(refs.map((ref) => [`${ref.kind}/${ref.name}`, ref]));
  const missing = new Set<string>();
  await Promise.all(
    [...unique.entries()].map(async ([key, ref]) => {
      const resource = ref.kind === 'Secret' ? 'secrets' : 'configmaps';
      const read = () =>
        ref.kind === 'Secret'
          ? clients.core.readNamespacedSecret({ name: ref.name, namespace }, METADATA_ONLY)
          : clients.core.readNamespacedConfigMap({ name: ref.name, namespace }, METADATA_ONLY);
      await clusterCall({ verb: 'get', resource, namespace, name: ref.name }, async () => {
        try {
          await read();
        } catch (error) {
          const status = apiStatus(error);
          if (status === 404) missing.add(key);
          else if (status !== 403) throw error;
        }
      });
    }),
  );
  return refs.filter((ref) => missing.has(`${ref.kind}/${ref.name}`));
}
