// Health probes for stack components.
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createConnection } from 'node:net';
import type { Pki } from './pki.ts';

/** GET an HTTP(S) URL and resolve true on a 2xx answer. TLS uses the local PKI when given. */
export async function httpOk(url: string, pki?: Pki, timeoutMs = 2_000): Promise<boolean> {
  if (url.startsWith('http://')) {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  }
  return new Promise((resolve) => {
    const req = httpsRequest(
      url,
      {
        timeout: timeoutMs,
        ...(pki
          ? { ca: readFileSync(pki.caCert), cert: readFileSync(pki.cert), key: readFileSync(pki.key) }
          : { rejectUnauthorized: false }),
      },
      (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 300);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

export async function tcpOpen(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
