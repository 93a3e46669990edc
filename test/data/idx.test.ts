import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import { encodeIdx, parseIdx } from '../../src/data/idx';

describe('IDX', () => {
  it('round-trips dims and data', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
    const bytes = encodeIdx([2, 3, 4], data);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 0, 0x08, 3]);
    const parsed = parseIdx(bytes, 'images');
    expect(parsed.dims).toEqual([2, 3, 4]);
    expect(Array.from(parsed.data)).toEqual(Array.from(data));
  });

  it('reads from a view with a non-zero byte offset', () => {
    const file = encodeIdx([3], Uint8Array.of(7, 8, 9));
    const padded = new Uint8Array(file.length + 5);
    padded.set(file, 5);
    expect(Array.from(parseIdx(padded.subarray(5), 'labels').data)).toEqual([7, 8, 9]);
  });

  it('rejects a wrong magic number, naming the file', () => {
    const bytes = encodeIdx([3], Uint8Array.of(1, 2, 3));
    bytes[0] = 0x1f;
    expect(() => parseIdx(bytes, 'labels.gz')).toThrow(DataFormatError);
    expect(() => parseIdx(bytes, 'labels.gz')).toThrow(/labels\.gz: not an IDX file/);
  });

  it('rejects element types other than unsigned byte', () => {
    const bytes = encodeIdx([3], Uint8Array.of(1, 2, 3));
    bytes[2] = 0x0d;
    expect(() => parseIdx(bytes, 'f.idx')).toThrow(/f\.idx: IDX element type 0x0d \(float\) is not supported/);
  });

  it('rejects a truncated file with the expected and found sizes', () => {
    const bytes = encodeIdx([2, 2, 2], new Uint8Array(8));
    expect(() => parseIdx(bytes.subarray(0, bytes.length - 3), 'imgs')).toThrow(
      /imgs: IDX file truncated: expected 24 bytes .* found 21/,
    );
  });

  it('rejects a truncated header', () => {
    const bytes = encodeIdx([2, 2, 2], new Uint8Array(8));
    expect(() => parseIdx(bytes.subarray(0, 10), 'imgs')).toThrow(/imgs: truncated IDX header/);
  });

  it('rejects trailing bytes', () => {
    const file = encodeIdx([3], Uint8Array.of(1, 2, 3));
    const longer = new Uint8Array(file.length + 1);
    longer.set(file);
    expect(() => parseIdx(longer, 'lbl')).toThrow(/lbl: IDX file has trailing bytes: expected 11 bytes .* found 12/);
  });
});
