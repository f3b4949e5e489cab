// Bearer tokens: stored as SHA-256 hashes, each mapped to a subject, roles and optionally namespaces.
// The plain token is never stored or logged; comparison is constant-time on the hashes.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export const ROLES = ['viewer', 'deployer', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const TokenEntry = z.strictObject({
  subject: z.string().min(1).max(200),
  roles: z.array(z.enum(ROLES)).min(1),
  /** Namespaces this token may act in; absent = all. */
  namespaces: z.array(z.string().min(1)).optional(),
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be the hex SHA-256 of the token'),
});
export type TokenEntry = z.infer<typeof TokenEntry>;
export const TokenTable = z.array(TokenEntry);

export interface Principal {
  subject: string;
  roles: readonly Role[];
  namespaces?: readonly string[] | undefined;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads the token table from a file (YAML or JSON) or a JSON string; errors name the source. */
export function loadTokenTable(source: {
  file?: string | undefined;
  json?: string | undefined;
}): TokenEntry[] {
  let raw: unknown = [];
  const where = source.file ?? 'SLIPWAY_API_TOKENS';
  try {
    if (source.file) raw = parseYaml(readFileSync(source.file, 'utf8'));
    else if (source.json) raw = JSON.parse(source.json);
  } catch (error) {
    throw new Error(
      `cannot read the API tokens from ${where}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  const parsed = TokenTable.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid API tokens in ${where}:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export class TokenAuthenticator {
  private readonly entries: Array<TokenEntry & { hash: Buffer }>;

  constructor(entries: readonly TokenEntry[]) {
    this.entries = entries.map((entry) => ({ ...entry, hash: Buffer.from(entry.tokenSha256, 'hex') }));
  }

  /** The principal of an `Authorization: Bearer …` header, or undefined. */
  authenticate(header: string | undefined): Principal | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) return undefined;
    const hash = createHash('sha256').update(match[1]!).digest();
    const entry = this.entries.find((e) => timingSafeEqual(e.hash, hash));
    return entry ? { subject: entry.subject, roles: entry.roles, namespaces: entry.namespaces } : undefined;
  }
}

/** What each kind of request needs. */
export type Permission = 'read' | 'deploy' | 'approve';
const GRANTS: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  deployer: ['read', 'deploy'],
  approver: ['read', 'approve'],
  admin: ['read', 'deploy', 'approve'],
};

/** Why `principal` may not do `permission` in `namespace`, or undefined when it may. */
export function permissionProblem(
  principal: Principal,
  permission: Permission,
  namespace: string | undefined,
): string | undefined {
  if (!principal.roles.some((role) => GRANTS[role].includes(permission))) {
    return `${principal.subject} (roles ${principal.roles.join(', ')}) may not ${permission}`;
  }
  if (namespace !== undefined && principal.namespaces && !principal.namespaces.includes(namespace)) {
    return `${principal.subject} may not act in namespace ${namespace}`;
  }
  return undefined;
}
