// Kubernetes names and values in a release spec: DNS-1123 labels and subdomains, label values,
// qualified names (label and annotation keys). Pure.
import { z } from 'zod';
import { recordOf } from './zod-shapes.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const DNS_LABEL_MESSAGE =
  'must be a DNS-1123 label: lower-case letters, digits and -, starting and ending alphanumeric';

/** A DNS-1123 label: model, namespace and gate names (lower-case alphanumerics and `-`, ≤ 63). */
export const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters (a DNS-1123 label)')
  .regex(DNS1123_LABEL, DNS_LABEL_MESSAGE);

/** A model name: a DNS-1123 label of at most 56 characters, as the candidate Deployment is `<model>-canary`. */
export const modelName = z
  .string()
  .max(56, 'must be at most 56 characters (the candidate Deployment is <model>-canary)')
  .regex(DNS1123_LABEL, DNS_LABEL_MESSAGE);

/** A DNS-1123 subdomain (Secret names, label prefixes). */
export const dnsSubdomain = z
  .string()
  .max(253, 'must be at most 253 characters (a DNS-1123 subdomain)')
  .regex(
    DNS1123_SUBDOMAIN,
    'must be a DNS-1123 subdomain: lower-case letters, digits, - and ., starting and ending alphanumeric',
  );

/** A Kubernetes label value, non-empty (an empty version says nothing). */
export const labelValue = z
  .string()
  .max(63, 'must be at most 63 characters (a Kubernetes label value)')
  .regex(
    NAME_PART,
    'must be a Kubernetes label value: letters, digits, -, _ and ., starting and ending alphanumeric',
  );

/** `[prefix/]name`, prefix a DNS subdomain (≤ 253), name ≤ 63 characters, alphanumeric at both ends. */
export function isQualifiedName(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && NAME_PART.test(name);
}

/** A label or annotation key: `[prefix/]name`, prefix a DNS subdomain, name ≤ 63 characters. */
export const qualifiedName = z
  .string()
  .refine(isQualifiedName, 'must be a qualified name such as example.com/key or key');

export const QUALIFIED_NAME_MESSAGE =
  'must be a qualified name such as example.com/key or key (name part ≤ 63 characters, alphanumeric at both ends)';

// An OCI image reference as container runtimes parse it (distribution/reference): an optional
// registry host[:port], lower-case path components, then :tag and/or @digest. The apiserver accepts
// any string here, but the kubelet refuses to pull what does not parse (InvalidImageName).
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*` +
    '(?::[\\w][\\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$',
);

/** A container image such as `triton:24.05` or `registry.example.com/team/server@sha256:<hex>`. */
export const imageReference = z
  .string('an image is required')
  .min(1, 'an image is required')
  .max(4096, 'an image reference is at most 4096 characters')
  .refine(
    (text) => IMAGE_REFERENCE.test(text) && repositoryOf(text).length <= 255,
    'must be an image reference such as registry.example.com/team/server:1.2 (lower-case path, no spaces)',
  );

/** The repository part of an image reference (without :tag and @digest). */
function repositoryOf(reference: string): string {
  const name = reference.split('@')[0] ?? '';
  const tag = name.lastIndexOf(':');
  return tag > name.lastIndexOf('/') ? name.slice(0, tag) : name;
}

/** Annotations: qualified names to any string. */
export const annotations = recordOf(qualifiedName, z.string(), QUALIFIED_NAME_MESSAGE);
