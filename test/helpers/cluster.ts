// Access to the real local cluster for integration tests: a KubeConfig from KUBECONFIG and
// throw-away namespaces, one per test file, deleted afterwards.
import * as k8s from '@kubernetes/client-node';

export function kubeConfig(): k8s.KubeConfig {
  if (!process.env.KUBECONFIG) throw new Error('KUBECONFIG is not set: run tests through `npm test`');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export interface TestNamespace {
  name: string;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
  custom: k8s.CustomObjectsApi;
  delete(): Promise<void>;
}

/** Creates a namespace with a unique name (`<prefix>-<random>`, a DNS-1123 label). */
export async function createTestNamespace(prefix: string): Promise<TestNamespace> {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${Math.random().toString(36).slice(2, 8)}`.slice(0, 63);
  await core.createNamespace({ body: { metadata: { name, labels: { 'slipway.dev/test': 'true' } } } });
  return {
    name,
    kc,
    core,
    apps: kc.makeApiClient(k8s.AppsV1Api),
    batch: kc.makeApiClient(k8s.BatchV1Api),
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    async delete() {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}

/** A KubeConfig that authenticates as the existing ServiceAccount `namespace/name` (a TokenRequest token). */
export async function tokenKubeConfig(
  admin: k8s.KubeConfig,
  namespace: string,
  name: string,
): Promise<k8s.KubeConfig> {
  const request = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster || !request.status?.token) throw new Error('no cluster or token');
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: request.status.token }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return kc;
}

/** A new ServiceAccount `name` in the test namespace, and a KubeConfig that authenticates as it. */
export async function serviceAccountKubeConfig(admin: TestNamespace, name: string): Promise<k8s.KubeConfig> {
  await admin.core.createNamespacedServiceAccount({ namespace: admin.name, body: { metadata: { name } } });
  return tokenKubeConfig(admin.kc, admin.name, name);
}
