// The release spec: what a user submits. One zod schema is the single source of truth for the
// workflow, the activities, the API and the CLI; TypeScript types are derived from it.
import { z } from 'zod';
import { durationString } from './duration.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters (a DNS-1123 label)')
  .regex(DNS1123_LABEL, 'must be a DNS-1123 label: lower-case letters, digits and -, starting and ending alphanumeric');

export const ServingSpec = z.strictObject({
  image: z.string().min(1),
  replicas: z.int().min(0).max(1000).default(1),
});

export const ReleaseSpec = z.strictObject({
  model: dnsLabel,
  namespace: dnsLabel,
  version: dnsLabel,
  serving: ServingSpec,
  /** Skeleton only: how long the release holds before it completes. */
  hold: durationString.optional(),
});

export type ReleaseSpecInput = z.input<typeof ReleaseSpec>;
export type ReleaseSpec = z.output<typeof ReleaseSpec>;
