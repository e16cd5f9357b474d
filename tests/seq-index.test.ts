import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqIndex } from '../services/telemetry/seq-index.js';

describe('SeqIndex', () => {
  it('merges touching and overlapping runs', () => {
    const idx = new SeqIndex();
    for (const s of [5, 7, 6, 1, 2, 10]) idx.add('d', s);
    idx.addRun('d', 3, 4);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].filter((s) => idx.has('d', s))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 10,
    ]);
    expect(idx.has('other', 1)).toBe(false);
  });

  it('gives up on a device whose seqs are too scattered, and says so', () => {
    const idx = new SeqIndex(4);
    for (const s of [1, 3, 5, 7]) idx.add('d', s);
    expect(idx.has('d', 3)).toBe(true);
    idx.add('d', 9);
    expect(idx.has('d', 3)).toBeUndefined();
    expect(idx.has('e', 3)).toBe(false);
  });

  it('agrees with a plain set for any order of additions', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5 })), {
          maxLength: 80,
        }),
        (adds) => {
          const idx = new SeqIndex();
          const set = new Set<number>();
          for (const [start, len] of adds) {
            idx.addRun('d', start, start + len);
            for (let s = start; s <= start + len; s++) set.add(s);
          }
          for (let s = 0; s <= 210; s++) expect(idx.has('d', s)).toBe(set.has(s));
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });
});
