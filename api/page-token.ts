// Page tokens of release lists: Temporal's visibility token, base64url-encoded for a URL. A token
// the API did not give out is a 400 at once: Temporal's visibility page tokens are JSON objects (in
// the SQL and Elasticsearch stores alike), and anything else makes the server answer UNKNOWN
// ("something went wrong, please retry"), which the client retries for about 20 s before failing.
import { ProblemError } from './errors.ts';

const NOT_OURS = () =>
  new ProblemError(400, 'pageToken is not a token this API gave out', {
    issues: [{ path: 'pageToken', message: 'invalid page token' }],
  });

/** The token for the next page of a list (undefined when there is none). */
export function encodePageToken(token: Uint8Array | null | undefined): string | undefined {
  return token && token.length > 0 ? Buffer.from(token).toString('base64url') : undefined;
}

/** Temporal's token from a client's pageToken; throws the 400 of one this API cannot have given out. */
export function decodePageToken(pageToken: string): Uint8Array {
  const token = Buffer.from(pageToken, 'base64url');
  let value: unknown;
  try {
    value = JSON.parse(token.toString('utf8'));
  } catch {
    throw NOT_OURS();
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw NOT_OURS();
  return token;
}
