import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';

function headerOf(file: Uint8Array): { length: number; json: Record<string, unknown> } {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { length, json: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) };
}

/** A valid file from a hand-written header, for testing what the decoder rejects. */
function fileWithHeader(header: unknown, dataBytes: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const file = new Uint8Array(8 + json.length + dataBytes);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  return file;
}

describe('safetensors', () => {
  const tensors = [
    { name: 'labels', dtype: 'U8' as const, shape: [3], data: Uint8Array.of(1, 2, 3) },
    { name: 'w', dtype: 'F32' as const, shape: [2, 2], data: Float32Array.of(0.5, -1, 3.25, 1e-8) },
    { name: 'step', dtype: 'U32' as const, shape: [], data: Uint32Array.of(4000000000) },
    { name: 'offsets', dtype: 'I32' as const, shape: [2], data: Int32Array.of(-7, 7) },
  ];

  it('round-trips tensors and metadata', () => {
    const file = encodeSafetensors(tensors, { format: 'webgrad', epoch: '3' });
    const decoded = decodeSafetensors(file, 'ckpt.safetensors');
    expect(decoded.metadata).toEqual({ format: 'webgrad', epoch: '3' });
    expect(decoded.tensors.size).toBe(4);
    for (const { name, dtype, shape, data } of tensors) {
      const got = decoded.tensors.get(name)!;
      expect(got.dtype).toBe(dtype);
      expect(got.shape).toEqual(shape);
      expect(got.data).toBeInstanceOf(data.constructor);
      expect(Array.from(got.data as ArrayLike<number>)).toEqual(Array.from(data as ArrayLike<number>));
    }
  });

  it('writes a spec-conformant layout', () => {
    const file = encodeSafetensors(tensors);
    const { length, json } = headerOf(file);
    expect(length % 8).toBe(0);
    expect(json).not.toHaveProperty('__metadata__');
    // 4-byte dtypes first, by name (offsets, step, w), so every tensor is aligned; U8 last.
    expect(json['labels']).toEqual({ dtype: 'U8', shape: [3], data_offsets: [28, 31] });
    expect(json['w']).toEqual({ dtype: 'F32', shape: [2, 2], data_offsets: [12, 28] });
    expect(file.length).toBe(8 + length + 31);
  });

  it('copies tensors from views with odd offsets', () => {
    const backing = new Float32Array(5).fill(9);
    const view = backing.subarray(1, 3);
    const decoded = decodeSafetensors(encodeSafetensors([{ name: 'v', dtype: 'F32', shape: [2], data: view }]), 'v');
    expect(Array.from(decoded.tensors.get("v")!.data as Float32Array)).toEqual([9, 9]);
  });

  it('stores any tensor name, including "__proto__"', () => {
    const file = encodeSafetensors([{ name: '__proto__', dtype: 'U8', shape: [1], data: Uint8Array.of(9) }]);
    expect(Array.from(decodeSafetensors(file, "p").tensors.get("__proto__")!.data as Uint8Array)).toEqual([9]);
  });

  it('reports a truncated file with expected and found data sizes', () => {
    const file = encodeSafetensors(tensors);
    expect(() => decodeSafetensors(file.subarray(0, file.length - 5), 'ckpt.safetensors')).toThrow(
      /ckpt\.safetensors: truncated: expected 31 bytes of tensor data, found 26/,
    );
  });

  it('reports a truncated header', () => {
    const file = encodeSafetensors(tensors);
    expect(() => decodeSafetensors(file.subarray(0, 20), 'c')).toThrow(
      /c: truncated header: expected \d+ header bytes, found 12/,
    );
    expect(() => decodeSafetensors(file.subarray(0, 5), 'c')).toThrow(/expected at least 8 bytes, found 5/);
  });

  it('rejects an absurd header length', () => {
    const file = new Uint8Array(16);
    new DataView(file.buffer).setBigUint64(0, 2n ** 60n, true);
    expect(() => decodeSafetensors(file, 'junk.bin')).toThrow(/junk\.bin: header length .* exceeds/);
  });

  it('rejects a header that is not JSON', () => {
    const file = encodeSafetensors(tensors);
    file[8] = 0x41;
    expect(() => decodeSafetensors(file, 'bad')).toThrow(DataFormatError);
    expect(() => decodeSafetensors(file, 'bad')).toThrow(/bad: header is not valid UTF-8 JSON/);
  });

  it('rejects offsets inconsistent with dtype and shape', () => {
    const file = fileWithHeader({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8);
    expect(() => decodeSafetensors(file, 'f')).toThrow(
      /tensor "a" \(F32 \[3\]\) needs 12 bytes, but data_offsets \[0, 8\] span 8/,
    );
  });

  it('rejects overlapping tensors and gaps', () => {
    const overlapping = fileWithHeader(
      {
        a: { dtype: 'U8', shape: [4], data_offsets: [0, 4] },
        b: { dtype: 'U8', shape: [4], data_offsets: [2, 6] },
      },
      6,
    );
    expect(() => decodeSafetensors(overlapping, 'f')).toThrow(/tensor "b" .* overlaps the previous tensor/);
    const gapped = fileWithHeader({ a: { dtype: 'U8', shape: [2], data_offsets: [2, 4] } }, 4);
    expect(() => decodeSafetensors(gapped, 'f')).toThrow(/leaves a gap after byte 0/);
  });

  it('rejects trailing bytes and unsupported dtypes', () => {
    const trailing = fileWithHeader({ a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } }, 3);
    expect(() => decodeSafetensors(trailing, 'f')).toThrow(/expected 2 bytes of tensor data, found 3/);
    const half = fileWithHeader({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, 2);
    expect(() => decodeSafetensors(half, 'f')).toThrow(/dtype "F16"; supported: F32, I64, U32, I32, U8/);
  });

  it('rejects non-string metadata', () => {
    const file = fileWithHeader({ __metadata__: { epoch: 3 } }, 0);
    expect(() => decodeSafetensors(file, 'f')).toThrow(/"__metadata__.epoch" must be a string/);
  });

  it('refuses to encode mismatched shapes and dtypes', () => {
    expect(() => encodeSafetensors([{ name: 'x', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(
      /shape \[3\] \(3 elements\) but 2 data elements/,
    );
    expect(() =>
      encodeSafetensors([{ name: 'x', dtype: 'F32', shape: [2], data: new Int32Array(2) as unknown as Float32Array }]),
    ).toThrow(/dtype F32 but its data is a Int32Array/);
  });
});
