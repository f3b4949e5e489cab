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

/**
 * The largest amount a quantity may have, in base units (2^53 ≈ 9×10^15: 8 PiB of memory, 9×10^15
 * CPUs). Kubernetes counts CPU in milli-units in an int64, and a float stays exact below it.
 */
const MAX_QUANTITY = 2 ** 53;

/** The value of a quantity in base units (approximate: a float), or undefined when `text` is none. */
function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text);
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  const value =
    exponent !== undefined
      ? Number(number) * 10 ** Number(exponent)
      : Number(number) * (suffix === undefined ? 1 : (SUFFIX[suffix] ?? 1));
  return Number.isFinite(value) ? value : undefined;
}

/** The value of a quantity already validated by `quantity`, in base units (approximate: a float). */
export function quantityValue(text: string): number {
  const value = parseQuantity(text);
  if (value === undefined) throw new TypeError(`not a Kubernetes quantity: ${JSON.stringify(text)}`);
  return value;
}

/**
 * A non-negative Kubernetes quantity such as `2`, `500m`, `1.5`, `8Gi`, `1e3`, at most
 * MAX_QUANTITY. YAML numbers (`cpu: 2`) are accepted and become strings.
 */
const quantity = z
  .union([z.string(), z.number()], { error: 'must be a Kubernetes quantity such as 2, 500m or 8Gi' })
  .transform(String)
  .pipe(
    z.string().superRefine((text, ctx) => {
      if (!QUANTITY.test(text)) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be a non-negative Kubernetes quantity such as 2, 500m, 1.5 or 8Gi',
        });
      } else if ((parseQuantity(text) ?? Infinity) > MAX_QUANTITY) {
        ctx.addIssue({ code: 'custom', message: 'must be at most 2^53 (about 9×10^15) base units' });
      }
    }),
  );

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
    // zod runs this check even when a quantity failed its own schema: compare only the values that
    // parse (the others already have an issue at their own path).
    const requests = parsedValues(resources.requests);
    const limits = parsedValues(resources.limits);
    const fractional = new Set<string>();
    for (const [side, list] of [
      ['requests', requests],
      ['limits', limits],
    ] as const) {
      for (const [name, { value }] of list) {
        if (isExtendedResource(name) && !Number.isInteger(value)) {
          ctx.addIssue({
            code: 'custom',
            path: [side, name],
            message: `${name} is an extended resource: a whole number is required`,
          });
          fractional.add(name);
        }
      }
    }
    for (const [name, limit] of limits) {
      const request = requests.get(name);
      if (request === undefined || fractional.has(name)) continue;
      if (isExtendedResource(name) && request.value !== limit.value) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', name],
          message: `${name} is an extended resource: its limit (${limit.text}) must equal its request (${request.text})`,
        });
      } else if (limit.value < request.value) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', name],
          message: `the ${name} limit (${limit.text}) is below its request (${request.text})`,
        });
      }
    }
  });

/** The entries of a resource list whose quantity parses (whatever the list holds: it may be invalid). */
function parsedValues(list: unknown): Map<string, { text: string; value: number }> {
  const parsed = new Map<string, { text: string; value: number }>();
  if (typeof list !== 'object' || list === null) return parsed;
  for (const [name, text] of Object.entries(list)) {
    const value = typeof text === 'string' ? parseQuantity(text) : undefined;
    if (value !== undefined && typeof text === 'string') parsed.set(name, { text, value });
  }
  return parsed;
}
