/** DuckDB reads BIGINT as bigint; the hub's are epoch ms and counts, well inside 2^53. */
export const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));
