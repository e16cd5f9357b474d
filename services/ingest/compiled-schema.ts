import { type ZodType, z } from 'zod';

/** True only when `value` certainly passes the schema it was compiled from. */
export type Accepts = (value: unknown) => boolean;

type JsonSchema = Record<string, unknown>;

/** Keywords that carry no rule. */
const NOTES = new Set(['$schema', 'description', 'title']);

/**
 * A fast accept-only check compiled from a zod schema (through the JSON Schema zod emits, so zod
 * stays the one statement of the contract): plain objects with fixed keys, arrays with length
 * bounds, numbers, integers and booleans with ranges. It answers "valid" only when sure; anything
 * else — a broken payload, or a schema keyword it does not know — goes to zod, which gives the
 * answer and the message. Returns undefined when the schema uses anything beyond that subset.
 *
 * Why: zod's parse and our checkPayload around it were 12 % of the hub's main thread at a paced
 * 1,000 readings/s (bench/profile-at.ts) and 8 % + 4 % at full rate (bench/results 2026-11-26).
 */
export function compileAccepts(schema: ZodType): Accepts | undefined {
  try {
    return node(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as JsonSchema);
  } catch {
    return undefined;
  }
}

function node(s: JsonSchema): Accepts | undefined {
  const rules = Object.keys(s).filter((k) => !NOTES.has(k));
  const only = (...allowed: string[]) => rules.every((k) => allowed.includes(k));
  switch (s.type) {
    case 'boolean':
      return only('type') ? (v) => typeof v === 'boolean' : undefined;
    case 'number':
    case 'integer': {
      if (!only('type', 'minimum', 'maximum')) return undefined;
      const min = typeof s.minimum === 'number' ? s.minimum : -Infinity;
      const max = typeof s.maximum === 'number' ? s.maximum : Infinity;
      return s.type === 'integer'
        ? (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max
        : (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max;
    }
    case 'array': {
      if (!only('type', 'items', 'minItems', 'maxItems') || typeof s.items !== 'object') return undefined;
      const item = node(s.items as JsonSchema);
      if (!item) return undefined;
      const min = typeof s.minItems === 'number' ? s.minItems : 0;
      const max = typeof s.maxItems === 'number' ? s.maxItems : Infinity;
      return (v) => {
        if (!Array.isArray(v) || v.length < min || v.length > max) return false;
        for (const x of v) if (!item(x)) return false;
        return true;
      };
    }
    case 'object': {
      if (!only('type', 'properties', 'required', 'additionalProperties')) return undefined;
      if (s.additionalProperties !== false) return undefined;
      const props = Object.entries((s.properties ?? {}) as Record<string, JsonSchema>);
      const checks = new Map<string, Accepts>();
      for (const [key, sub] of props) {
        const c = node(sub);
        if (!c) return undefined;
        checks.set(key, c);
      }
      const required = (s.required ?? []) as string[];
      return (v) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
        const o = v as Record<string, unknown>;
        for (const key of required) if (!Object.hasOwn(o, key)) return false;
        for (const key in o) {
          const check = checks.get(key);
          if (!check || !Object.hasOwn(o, key) || !check(o[key])) return false;
        }
        return true;
      };
    }
    default:
      return undefined;
  }
}
