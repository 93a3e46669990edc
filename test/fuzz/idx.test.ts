// Fuzzed IDX files (src/data/idx.ts): parsed with data matching the header, or refused with a DataFormatError.
import { describe, expect, it } from 'vitest';
import { encodeIdx, parseIdx } from '../../src/data/idx';
import { byteCases, expectClean, runFuzz } from '../helpers/fuzz';

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
const corpus = [
  encodeIdx([3], bytes(3)),
  encodeIdx([2, 3, 4], bytes(24)),
  encodeIdx([0], bytes(0)),
  encodeIdx([1, 1, 1, 1, 1], bytes(1)),
  encodeIdx([5, 4, 4], bytes(80)),
];

describe('IDX reader under fuzzing', () => {
  it.each([1, 2])('seed %i: 4000 truncations and mutations, each parsed or refused with a DataFormatError', (seed) => {
    const report = expectClean(
      runFuzz({
        cases: byteCases(seed, corpus, { count: 4000, fields: [0, 4, 8, 12, 16] }),
        parse: (input) => parseIdx(input, 'fuzz.idx'),
        check: ({ dims, data }, input) => {
          const count = dims.reduce((a, b) => a * b, 1);
          if (data.length !== count) return `dims [${dims}] hold ${count} elements but data has ${data.length}`;
          if (4 + 4 * dims.length + count !== input.length) return `header and data do not add up to the ${input.length} bytes`;
          return undefined;
        },
        allocation: { fixedBytes: 64 * 1024, perInputByte: 1 },
      }),
      4000,
    );
    expect(report.parsed).toBeGreaterThan(10);
    expect(Object.keys(report.refusedBy)).toEqual(['DataFormatError']);
  });

  it('dimensions whose product overflows are refused as what they are, without allocating', () => {
    const header = encodeIdx([1, 1, 1], new Uint8Array(1));
    const view = new DataView(header.buffer);
    for (let i = 0; i < 3; i++) view.setUint32(4 + 4 * i, 0xffffffff, false);
    expect(() => parseIdx(header, 'huge.idx')).toThrow(/huge\.idx: IDX file truncated: .* for dimensions \[4294967295, 4294967295, 4294967295\]/);
    const zero = new Uint8Array(4 + 4 * 40);
    zero[2] = 0x08;
    zero[3] = 40;
    const dims = new DataView(zero.buffer);
    for (let i = 0; i < 39; i++) dims.setUint32(4 + 4 * i, 0xffffffff, false); // the product passes Infinity, then × 0
    // Empty: 39 huge dimensions and a zero one hold no elements, so the 164-byte header is the whole file.
    expect(parseIdx(zero, 'empty.idx').data.length).toBe(0);
    expect(() => parseIdx(new Uint8Array([...zero, 1]), 'empty.idx')).toThrow(/has trailing bytes: expected 164 bytes \(164-byte header \+ 0 elements for dimensions \[4294967295, .*\(40 in all\)\]\), found 165/);
  });
});
