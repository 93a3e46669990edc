// The .npy reader (src/data/npy.ts): files written by numpy itself (test/fixtures/npy, made by
// make_fixtures.py there), round trips through encodeNpy, and every refusal with the file named.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeNpy, parseNpy, type NpyInput } from '../../src/data/npy';
import { DataFormatError } from '../../src/errors';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/npy/${name}`, import.meta.url)));
const range = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => i + offset);

/** magic, version, length field, then `header` as given (no padding) and `data`. */
function rawNpy(header: string, data: Uint8Array = new Uint8Array(0), version = 1): Uint8Array {
  const text = new TextEncoder().encode(header);
  const lengthBytes = version === 1 ? 2 : 4;
  const out = new Uint8Array(8 + lengthBytes + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true);
  else view.setUint32(8, text.length, true);
  out.set(text, 8 + lengthBytes);
  out.set(data, 8 + lengthBytes + text.length);
  return out;
}

const refusal = (bytes: Uint8Array, name = 'x.npy'): string => {
  try {
    parseNpy(bytes, name);
  } catch (error) {
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message.startsWith(`${name}: `)).toBe(true);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('parseNpy on files numpy wrote', () => {
  it.each([
    ['u1', Uint8Array, 'uint8', 0],
    ['i1', Int8Array, 'int8', -10],
    ['i2', Int16Array, 'int16', -10],
    ['u2', Uint16Array, 'uint16', 0],
    ['i4', Int32Array, 'int32', -10],
    ['u4', Uint32Array, 'uint32', 0],
    ['i8', Float64Array, 'int64', -10],
    ['u8', Float64Array, 'uint64', 0],
    ['f4', Float32Array, 'float32', 0],
    ['f8', Float32Array, 'float64', 0],
  ] as const)('%s: shape, dtype and values', (name, type, dtype, offset) => {
    const array = parseNpy(fixture(`${name}.npy`), `${name}.npy`);
    expect(array.shape).toEqual([2, 3, 4]);
    expect(array.dtype).toBe(dtype);
    expect(array.data).toBeInstanceOf(type);
    expect(Array.from(array.data)).toEqual(range(24, offset));
  });

  it('versions 1.0, 2.0 and 3.0', () => {
    for (const v of [1, 2, 3]) {
      const bytes = fixture(`v${v}.npy`);
      expect(bytes[6]).toBe(v);
      const array = parseNpy(bytes, `v${v}.npy`);
      expect(array.shape).toEqual([2, 3, 4]);
      expect(Array.from(array.data)).toEqual(range(24));
    }
  });

  it('float64 becomes float32, rounded to nearest', () => {
    const { data, dtype } = parseNpy(fixture('f8_rounding.npy'), 'r.npy');
    expect(dtype).toBe('float64');
    expect(data).toBeInstanceOf(Float32Array);
    const want = [0.1, 1 / 3, 1e-40, -2.5e38, 16777217].map(Math.fround);
    expect(Array.from(data)).toEqual(want);
    expect(data[0]).not.toBe(0.1); // rounded, not kept
    expect(data[4]).toBe(16777216); // ties to even
  });

  it('int64 read exactly up to ±(2^53 − 1), refused beyond', () => {
    expect(Array.from(parseNpy(fixture('i8_extremes.npy'), 'i.npy').data)).toEqual([2 ** 53 - 1, -(2 ** 53 - 1), 0]);
    expect(refusal(fixture('i8_too_big.npy'), 'big.npy')).toMatch(/^big\.npy: element 1 is 9007199254740992, beyond the integers a double holds exactly .*int64/);
  });

  it('fortran_order: True is transposed into C order', () => {
    const { shape, data } = parseNpy(fixture('fortran.npy'), 'f.npy');
    expect(shape).toEqual([2, 3, 4]);
    expect(Array.from(data)).toEqual(range(24));
  });

  it('a 0-d array and an empty one', () => {
    expect(parseNpy(fixture('scalar.npy'), 's.npy')).toMatchObject({ shape: [], dtype: 'int32' });
    expect(Array.from(parseNpy(fixture('scalar.npy'), 's.npy').data)).toEqual([7]);
    const empty = parseNpy(fixture('empty.npy'), 'e.npy');
    expect([empty.shape, empty.data.length]).toEqual([[0, 5], 0]);
  });

  it('big-endian and float16 refused, saying what to do', () => {
    expect(refusal(fixture('big_endian.npy'), 'be.npy')).toBe("be.npy: dtype '>f4' is big-endian; only little-endian files are read (save it with x.astype('<f4'))");
    expect(refusal(fixture('float16.npy'), 'h.npy')).toMatch(/^h\.npy: dtype '<f2' \(float16\) is not supported; supported: \|u1, \|i1, .*<f8$/);
  });
});

describe('encodeNpy and parseNpy', () => {
  const cases: [string, NpyInput][] = [
    ['uint8', Uint8Array.of(0, 1, 255, 7, 8, 9)],
    ['int8', Int8Array.of(-128, -1, 0, 1, 127, 5)],
    ['int16', Int16Array.of(-32768, -1, 0, 1, 32767, 5)],
    ['uint16', Uint16Array.of(0, 1, 65535, 3, 4, 5)],
    ['int32', Int32Array.of(-(2 ** 31), -1, 0, 1, 2 ** 31 - 1, 5)],
    ['uint32', Uint32Array.of(0, 1, 2 ** 32 - 1, 3, 4, 5)],
    ['int64', BigInt64Array.of(-(2n ** 53n - 1n), -1n, 0n, 1n, 2n ** 53n - 1n, 5n)],
    ['uint64', BigUint64Array.of(0n, 1n, 2n ** 53n - 1n, 3n, 4n, 5n)],
    ['float32', Float32Array.of(-1.5, 0, 1e-30, 3.25, 1e30, -0)],
    ['float64', Float64Array.of(-1.5, 0, 0.1, 3.25, 1e30, 2 / 3)],
  ];
  it.each(cases)('%s round trip, versions 1, 2 and 3', (dtype, data) => {
    for (const version of [1, 2, 3] as const) {
      const bytes = encodeNpy([2, 3], data, { version });
      expect(bytes[6]).toBe(version);
      expect((bytes.length - data.byteLength) % 64).toBe(0); // the data starts aligned, as np.save writes it
      const array = parseNpy(bytes, 'r.npy');
      expect(array.shape).toEqual([2, 3]);
      expect(array.dtype).toBe(dtype);
      const want = Array.from(data as ArrayLike<number | bigint>, (v) => (dtype === 'float64' ? Math.fround(Number(v)) : Number(v)));
      expect(Array.from(array.data)).toEqual(want);
    }
  });

  it('writes what numpy writes', () => {
    expect(encodeNpy([2, 3, 4], Float32Array.from(range(24)), { version: 1 })).toEqual(fixture('f4.npy'));
    expect(encodeNpy([2, 3, 4], Uint8Array.from(range(24)))).toEqual(fixture('u1.npy'));
    expect(encodeNpy([2, 3, 4], Float32Array.from(range(24)), { version: 3 })).toEqual(fixture('v3.npy'));
  });

  it('reads from a view at an odd or an aligned byte offset', () => {
    for (const data of [Float32Array.of(1, 2, 3), Float64Array.of(1, 2, 3), BigInt64Array.of(1n, 2n, 3n), Uint16Array.of(1, 2, 3)]) {
      for (const offset of [3, 8]) {
        const file = encodeNpy([3], data);
        const padded = new Uint8Array(file.length + offset);
        padded.set(file, offset);
        expect(Array.from(parseNpy(padded.subarray(offset), 'o.npy').data)).toEqual([1, 2, 3]);
      }
    }
  });

  it('reads a Node Buffer from the shared pool (as readFile gives small files) into fresh arrays of their own', () => {
    for (const data of [Uint8Array.of(1, 2, 3), Int8Array.of(1, 2, 3), Int16Array.of(1, 2, 3), Float32Array.of(1, 2, 3), Float64Array.of(1, 2, 3), BigInt64Array.of(1n, 2n, 3n)]) {
      const pooled = Buffer.concat([Buffer.alloc(5), Buffer.from(encodeNpy([3], data))]).subarray(5);
      expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length); // a view into a larger pool
      const array = parseNpy(pooled, 'p.npy');
      expect(Buffer.isBuffer(array.data)).toBe(false);
      expect(array.data.length).toBe(3);
      expect(Array.from(array.data)).toEqual([1, 2, 3]);
      pooled.fill(0);
      expect(Array.from(array.data)).toEqual([1, 2, 3]);
    }
  });

  it('a 1-d Fortran array is its own C order; a rank-4 one is transposed', () => {
    expect(Array.from(parseNpy(encodeNpy([3], Int32Array.of(4, 5, 6), { fortranOrder: true }), 'a').data)).toEqual([4, 5, 6]);
    const shape = [2, 3, 2, 2];
    const c = Float32Array.from(range(24));
    // Fortran order: element (a, b, d, e) at a + 2 (b + 3 (d + 2 e)).
    const f = new Float32Array(24);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 3; b++) for (let d = 0; d < 2; d++) for (let e = 0; e < 2; e++) f[a + 2 * (b + 3 * (d + 2 * e))] = c[((a * 3 + b) * 2 + d) * 2 + e];
    expect(Array.from(parseNpy(encodeNpy(shape, f, { fortranOrder: true }), 'f').data)).toEqual(range(24));
  });
});

describe('parseNpy refusals', () => {
  const f4 = encodeNpy([2, 2], Float32Array.of(1, 2, 3, 4));
  const header = (dict: string, data = new Uint8Array(16)) => rawNpy(dict, data);

  it('bad magic, with a hint for gzip and zip files', () => {
    expect(refusal(Uint8Array.of(1, 2, 3))).toBe('x.npy: not an NPY file: it does not start with the magic bytes \\x93NUMPY (the file has 3 bytes)');
    expect(refusal(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0))).toMatch(/gzip file; decompress it first/);
    expect(refusal(Uint8Array.of(0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0))).toMatch(/an \.npz holds \.npy files; unpack it first/);
    expect(refusal(new Uint8Array(0))).toMatch(/the file has 0 bytes/);
  });

  it('an unknown format version', () => {
    const bytes = f4.slice();
    bytes[6] = 4;
    expect(refusal(bytes)).toBe('x.npy: NPY format version 4.0 is not supported; versions 1.0, 2.0 and 3.0 are read');
  });

  it('a truncated header', () => {
    expect(refusal(f4.subarray(0, 9))).toMatch(/^x\.npy: truncated NPY header: version 1\.0 needs 10 bytes before the header, found 9$/);
    expect(refusal(f4.subarray(0, 40))).toBe('x.npy: truncated NPY header: it declares 118 header bytes, but the file has 30 after the length field');
    const v2 = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(4), 2);
    new DataView(v2.buffer).setUint32(8, 0xffffffff, true);
    expect(refusal(v2)).toMatch(/declares 4294967295 header bytes/);
  });

  it.each([
    ["('descr', '<f4')", /not a Python dict literal: it is not a dict/],
    ["'descr': '<f4'", /not a Python dict literal: unexpected text after the dict at character 7 \(header "'descr': '<f4'"\)$/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2)", /not a Python dict literal: ended where a value was expected|expected ',' or '}'/],
    ["{'descr' '<f4', 'fortran_order': False, 'shape': (2, 2), }", /not a Python dict literal: expected ':' after the key 'descr' at character 9/],
    ["{'descr': '<f4, 'fortran_order': False, 'shape': (2, 2), }", /not a Python dict literal/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), } junk", /unexpected text after the dict/],
    ["{'descr': '<f4', 'fortran_order': false, 'shape': (2, 2), }", /unexpected "f"/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'descr': '<f4'}", /the key 'descr' is given twice/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(40)}${')'.repeat(40)}}`, /nested more than 16 deep/],
    ["{'descr': '<f4', 'shape': (2, 2), }", /exactly the keys 'descr', 'fortran_order' and 'shape'; 'fortran_order' missing$/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), 'extra': 1}", /'extra' unexpected$/],
    ["{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 2), }", /structured dtype.*only plain numeric arrays/],
    ["{'descr': 'float32', 'fortran_order': False, 'shape': (2, 2), }", /dtype 'float32' is not a numpy type string such as '<f4'/],
    ["{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }", /dtype '<c8' \(complex64\) is not supported/],
    ["{'descr': '|O', 'fortran_order': False, 'shape': (2, 2), }", /is not a numpy type string/],
    ["{'descr': '|O8', 'fortran_order': False, 'shape': (2, 2), }", /\(Python objects \(pickled\)\) is not supported/],
    ["{'descr': '<U4', 'fortran_order': False, 'shape': (2, 2), }", /\(strings\) is not supported/],
    ["{'descr': '=f4', 'fortran_order': False, 'shape': (2, 2), }", /gives no byte order \('='\); a 4-byte type must be '<f4'/],
    ["{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2), }", /'fortran_order' must be True or False; got 0/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': [2, 2], }", /'shape' must be a tuple of integers/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", /'shape' must be a tuple of integers .*; got 4$/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }", /'shape' must hold non-negative integers; got \[2,-2\]/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 'a'), }", /'shape' must hold non-negative integers/],
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 1), }", /must hold non-negative integers/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (${Array(65).fill(1).join(', ')}), }`, /the shape has 65 dimensions; numpy arrays have at most 64/],
  ])('header %j', (dict, says) => {
    expect(refusal(header(dict))).toMatch(says);
  });

  it('accepts what numpy 1.x and Python 2 wrote: no trailing comma, long integers', () => {
    expect(parseNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 2L)}"), 'x').shape).toEqual([2, 2]);
    expect(parseNpy(header('{"descr": "<f4", "fortran_order": False, "shape": (4,)}'), 'x').shape).toEqual([4]);
  });

  it('data shorter or longer than the shape says', () => {
    expect(refusal(f4.subarray(0, f4.length - 1))).toBe('x.npy: the NPY file is truncated: shape (2, 2) of float32 needs 16 data bytes after the 128-byte header, found 15');
    expect(refusal(Uint8Array.from([...f4, 0, 0]))).toBe('x.npy: the NPY file has 2 trailing bytes: shape (2, 2) of float32 needs 16 data bytes after the 128-byte header, found 18');
  });

  it('absurd shapes are refused without allocating them', () => {
    const before = process.memoryUsage().arrayBuffers;
    const huge = header("{'descr': '<f8', 'fortran_order': False, 'shape': (9007199254740991, 9007199254740991, 9007199254740991), }");
    expect(refusal(huge)).toMatch(/truncated: shape \(9007199254740991, 9007199254740991, 9007199254740991\) of float64 needs about 5\.85e\+48 data bytes/);
    expect(refusal(header("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483648,), }"))).toMatch(/needs 8589934592 data bytes/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1 << 20);
    // A zero dimension empties the array whatever the others are.
    const zero = parseNpy(header("{'descr': '<f4', 'fortran_order': False, 'shape': (9007199254740991, 0), }", new Uint8Array(0)), 'z');
    expect(zero.data.length).toBe(0);
  });

  it('a float64 beyond float32 range is refused rather than made Infinity; NaN passes to the dataset checks', () => {
    expect(refusal(encodeNpy([2], Float64Array.of(1, 1e300)))).toBe("x.npy: element 1 is 1e+300, beyond float32's range (±3.4e38); the engine computes in float32");
    expect(Array.from(parseNpy(encodeNpy([2], Float64Array.of(NaN, -Infinity)), 'x').data)).toEqual([NaN, -Infinity]);
  });

  it('a version 3 header that is not UTF-8', () => {
    const bytes = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } ", new Uint8Array(4), 3);
    bytes[bytes.length - 5] = 0xff; // the header's last byte, the space: a lone 0xff is never UTF-8
    expect(refusal(bytes)).toBe('x.npy: the NPY header is not valid UTF-8');
  });
});
