// Kubernetes quantities (`2`, `500m`, `8Gi`) and the resources of a container. Pure.
import { z } from 'zod';
import { isQualifiedName } from './names.ts';
import { recordOf } from './zod-shapes.ts';

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;
const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity already validated by `quantity`, in base units (approximate: a float). */
export function quantityValue(text: string): number {
  const match = QUANTITY.exec(text);
  if (!match) throw new TypeError(`not a Kubernetes quantity: ${JSON.stringify(text)}`);
  const [, number, exponent, suffix] = match;
  if (exponent !== undefined) return Number(number) * 10 ** Number(exponent);
  return Number(number) * (suffix === undefined ? 1 : (SUFFIX[suffix] ?? 1));
}

/**
 * A non-negative Kubernetes quantity such as `2`, `500m`, `1.5`, `8Gi`, `1e3`. YAML numbers
 * (`cpu: 2`) are accepted and become strings.
 */
const quantity = z
  .union([z.string(), z.number()], { error: 'must be a Kubernetes quantity such as 2, 500m or 8Gi' })
  .transform(String)
  .pipe(z.string().regex(QUANTITY, 'must be a non-negative Kubernetes quantity such as 2, 500m, 1.5 or 8Gi'));

const NATIVE_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);

function isResourceName(name: string): boolean {
  if (NATIVE_RESOURCES.has(name) || /^hugepages-/.test(name)) return true;
  return name.includes('/') && isQualifiedName(name);
}

/** Extended resources (nvidia.com/gpu …) are whole numbers and cannot be overcommitted. */
function isExtendedResource(name: string): boolean {
  if (!name.includes('/')) return false;
  const prefix = name.slice(0, name.indexOf('/'));
  return prefix !== 'kubernetes.io' && !prefix.endsWith('.kubernetes.io') && !prefix.startsWith('requests.');
}

const RESOURCE_NAME_MESSAGE =
  'must be cpu, memory, ephemeral-storage, hugepages-<size> or a qualified name such as nvidia.com/gpu';

const ResourceList = recordOf(z.string().refine(isResourceName), quantity, RESOURCE_NAME_MESSAGE);

export const Resources = z
  .strictObject({ requests: ResourceList.optional(), limits: ResourceList.optional() })
  .superRefine((resources, ctx) => {
    const requests = resources.requests ?? {};
    const limits = resources.limits ?? {};
    const fractional = new Set<string>();
    for (const [side, list] of [
      ['requests', requests],
      ['limits', limits],
    ] as const) {
      for (const [name, value] of Object.entries(list)) {
        if (isExtendedResource(name) && !Number.isInteger(quantityValue(value))) {
          ctx.addIssue({
            code: 'custom',
            path: [side, name],
            message: `${name} is an extended resource: a whole number is required`,
          });
          fractional.add(name);
        }
      }
    }
    for (const [name, limit] of Object.entries(limits)) {
      const request = requests[name];
      if (request === undefined || fractional.has(name)) continue;
      if (isExtendedResource(name) && quantityValue(request) !== quantityValue(limit)) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', name],
          message: `${name} is an extended resource: its limit (${limit}) must equal its request (${request})`,
        });
      } else if (quantityValue(limit) < quantityValue(request)) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', name],
          message: `the ${name} limit (${limit}) is below its request (${request})`,
        });
      }
    }
  });
