// How the worker and the API reach Temporal: a plain address locally; an API key (implies TLS)
// and/or an mTLS client certificate, server CA and server name for a hosted Temporal. The same options
// serve a worker's NativeConnection and a client Connection. Key material is never logged.
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { z } from 'zod';

/** The environment variables both processes read for Temporal (merged into their own schemas). */
export const TemporalConnectionEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
});
export type TemporalConnectionEnv = z.infer<typeof TemporalConnectionEnv>;

export interface TemporalConnectionOptions {
  address: string;
  apiKey?: string;
  tls?: TLSConfig;
}

function readConfiguredFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(
      `invalid configuration: ${variable} names ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
}

export function connectionOptions(config: TemporalConnectionEnv): TemporalConnectionOptions {
  const {
    TEMPORAL_API_KEY: apiKey,
    TEMPORAL_TLS_CERT: cert,
    TEMPORAL_TLS_KEY: key,
    TEMPORAL_TLS_CA: ca,
  } = config;
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error('invalid configuration: TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  }
  const wantsTls = apiKey !== undefined || cert !== undefined || ca !== undefined;
  if (!wantsTls) return { address: config.TEMPORAL_ADDRESS };
  return {
    address: config.TEMPORAL_ADDRESS,
    ...(apiKey ? { apiKey } : {}),
    tls: {
      ...(config.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: config.TEMPORAL_TLS_SERVER_NAME } : {}),
      ...(ca ? { serverRootCACertificate: readConfiguredFile('TEMPORAL_TLS_CA', ca) } : {}),
      ...(cert && key
        ? {
            clientCertPair: {
              crt: readConfiguredFile('TEMPORAL_TLS_CERT', cert),
              key: readConfiguredFile('TEMPORAL_TLS_KEY', key),
            },
          }
        : {}),
    },
  };
}
