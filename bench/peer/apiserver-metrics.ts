// apiserver_request_total from the local kube-apiserver's /metrics (admin client certificate): every
// client's requests, the whole cluster's (controller-manager, scheduler, KWOK, the simulator, and
// whatever else runs on the shared stack), to set beside each tool's own count (counting-proxy.ts).
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { loadStackConfig } from '../../infra/local/stack/config.ts';
import { pkiPaths } from '../../infra/local/stack/pki.ts';

export function sumMetric(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

export async function apiserverRequestTotal(): Promise<number> {
  const config = loadStackConfig();
  const pki = pkiPaths(config);
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: config.ports.apiserver,
        path: '/metrics',
        ca: readFileSync(pki.caCert),
        cert: readFileSync(pki.cert),
        key: readFileSync(pki.key),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
  return sumMetric(text, 'apiserver_request_total');
}
