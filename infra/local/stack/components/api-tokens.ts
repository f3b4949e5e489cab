// The local stack's development API token: a random bearer token for the subject `dev-admin`
// (role admin), stored hashed in the token file the API reads and in plain in a 0600 file for the
// CLI. Created once; `env` exports SLIPWAY_API_TOKENS_FILE, SLIPWAY_TOKEN and SLIPWAY_API_URL.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '../../../../api/auth/tokens.ts';
import type { Component } from '../component.ts';
import type { StackConfig } from '../config.ts';

export const DEV_API_URL = 'http://127.0.0.1:8080';
const tokenFile = (config: StackConfig) => join(config.stateDir, 'dev-token');
const tableFile = (config: StackConfig) => join(config.stateDir, 'api-tokens.json');

export const apiTokens: Component = {
  name: 'api-tokens',
  async up(config) {
    const token = randomBytes(32).toString('base64url');
    writeFileSync(tokenFile(config), `${token}\n`, { mode: 0o600 });
    const table = [{ subject: 'dev-admin', roles: ['admin'], tokenSha256: sha256Hex(token) }];
    writeFileSync(tableFile(config), `${JSON.stringify(table, null, 2)}\n`, { mode: 0o600 });
    await Promise.resolve();
  },
  healthy(config) {
    return Promise.resolve(existsSync(tokenFile(config)) && existsSync(tableFile(config)));
  },
  down() {
    return Promise.resolve(); // the token outlives restarts of the stack
  },
  describe(config) {
    return `dev token (subject dev-admin, admin) in ${tokenFile(config)}; API: npm run api (${DEV_API_URL})`;
  },
  env(config): Record<string, string> {
    if (!existsSync(tokenFile(config))) return {};
    return {
      SLIPWAY_API_TOKENS_FILE: tableFile(config),
      SLIPWAY_TOKEN: readFileSync(tokenFile(config), 'utf8').trim(),
      SLIPWAY_API_URL: DEV_API_URL,
    };
  },
};
