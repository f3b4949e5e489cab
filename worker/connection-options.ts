// How the worker reaches Temporal, from its config: a plain address locally; an API key (implies TLS)
// and/or an mTLS client certificate, server CA and server name for a hosted Temporal. The same options
// serve the worker's NativeConnection and its client Connection. Key material is never logged.
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { WorkerConfig } from './config.ts';

export interface TemporalConnectionOptions {
  address: string;
  apiKey?: string;
  tls?: TLSConfig;
}

function readConfiguredFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`invalid worker configuration: ${variable} names ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
}

export function connectionOptions(config: WorkerConfig): TemporalConnectionOptions {
  const { TEMPORAL_API_KEY: apiKey, TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca } = config;
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error('invalid worker configuration: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  }
  const wantsTls = apiKey !== undefined || cert !== undefined || ca !== undefined;
  if (!wantsTls) return { address: config.TEMPORAL_ADDRESS };
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(apiKey ? { apiKey } : {}),
    tls: {
      ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(ca ? { serverRootCACertificate: readConfiguredFile('TEMPORAL_TLS_CA', ca) } : {}),
      ...(cert && key ? { clientCertPair: { crt: readConfiguredFile('TEMPORAL_TLS_CERT', cert), key: readConfiguredFile('TEMPORAL_TLS_KEY', key) } } : {}),
    },
  };
}
