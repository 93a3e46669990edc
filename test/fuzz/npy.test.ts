// Fuzzed .npy files (src/data/npy.ts): parsed with data matching the header, or refused with a
// DataFormatError; never another error, a hang, or an allocation far beyond the file's size.
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy } from '../../src/data/npy';
import { Rng } from '../../src/data/rng';
import { byteCases, expectClean, pick, runFuzz, textCases } from '../helpers/fuzz';

const corpus = [
  encodeNpy([3], Float32Array.of(1, 2.5, -3)),
  encodeNpy([2, 3, 4], Uint8Array.from({ length: 24 }, (_, i) => i * 11)),
  encodeNpy([2, 2], Float64Array.of(0.1, 1e30, -2, 1 / 3), { version: 2 }),
  encodeNpy([4], BigInt64Array.of(1n, -1n, 2n ** 40n, 0n), { version: 3 }),
  encodeNpy([3, 2], Int16Array.of(-1, 2, -3, 4, -5, 6), { fortranOrder: true }),
  encodeNpy([0, 5], new Float32Array(0)),
  encodeNpy([], Uint32Array.of(7)),
];

const elements = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

const check = ({ shape, data }: { shape: number[]; data: ArrayLike<number> }, input: Uint8Array) => {
  if (data.length !== elements(shape)) return `shape [${shape}] holds ${elements(shape)} elements but data has ${data.length}`;
  if (data.length > input.length) return `${data.length} elements from a ${input.length}-byte file`;
  return undefined;
};

describe('NPY reader under fuzzing', () => {
  it.each([1, 2])('seed %i: 3000 truncations and byte mutations, each parsed or refused with a DataFormatError', (seed) => {
    const report = expectClean(
      runFuzz({
        // Offsets 8 (the header length) and 10/12 (where the dict begins) are the fields that matter most.
        cases: byteCases(seed, corpus, { count: 3000, fields: [6, 8, 10, 12] }),
        parse: (input) => parseNpy(input, 'fuzz.npy'),
        check,
        allocation: { fixedBytes: 64 * 1024, perInputByte: 4 },
      }),
      3000,
    );
    expect(report.parsed).toBeGreaterThan(10);
    expect(Object.keys(report.refusedBy)).toEqual(['DataFormatError']);
  });

  it('seed 3: 2000 mutated header texts (the Python dict), each parsed or refused with a DataFormatError', () => {
    // Mutate the dict text itself, then write a file whose data matches what the dict would need if it
    // parses as the seed said, so that header mistakes are reached rather than always the length check.
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const words = ["'descr'", "'shape'", "'fortran_order'", 'True', 'False', 'None', "'<f4'", "'>f4'", "'|u1'", "'<f8'", '(', ')', '(2,)', '()', '2L', '-3', "'", '"'];
    const rng = new Rng(3);
    const cases = [...textCases(3, [dict], { count: 2000, words })].map(({ input, how }) => {
      const header = new TextEncoder().encode(input);
      const dataBytes = pick(rng, [0, 6, 24, 24, 24, 24, 48]); // 24: what (2, 3) of float32 needs
      const out = new Uint8Array(10 + header.length + dataBytes);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      new DataView(out.buffer).setUint16(8, Math.min(header.length, 0xffff), true);
      out.set(header, 10);
      return { input: out, how: `${how}, with ${dataBytes} data bytes` };
    });
    const report = expectClean(runFuzz({ cases, parse: (input) => parseNpy(input, 'fuzz.npy'), check, allocation: { fixedBytes: 64 * 1024, perInputByte: 4 } }), 2000);
    expect(report.parsed).toBeGreaterThan(5);
    expect(report.refused).toBeGreaterThan(1000);
    expect(Object.keys(report.refusedBy)).toEqual(['DataFormatError']);
  });
});
