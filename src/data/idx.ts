/**
 * The IDX file format used by MNIST (http://yann.lecun.com/exdb/mnist/):
 *
 *   bytes 0-1  zero
 *   byte  2    element type code (0x08 = unsigned byte; the only one MNIST uses, so the only one read here)
 *   byte  3    number of dimensions D
 *   then       D big-endian u32 sizes, then product(sizes) elements in row-major order
 *
 * MNIST images are magic 0x00000803 (N x rows x cols), labels 0x00000801 (N).
 */
import { DataFormatError, ShapeError } from '../errors';

export interface IdxTensor {
  dims: number[];
  data: Uint8Array;
}

const UNSIGNED_BYTE_TYPE = 0x08;
const PREFIX_BYTES = 4;
const DIM_BYTES = 4;

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

function hex(value: number, digits: number): string {
  return '0x' + value.toString(16).padStart(digits, '0');
}

/**
 * Parses an unsigned-byte IDX file. The returned `data` is a view into `bytes` (no copy: the MNIST
 * training images are 47 MB), so do not mutate `bytes` afterwards.
 */
export function parseIdx(bytes: Uint8Array, fileName: string): IdxTensor {
  if (bytes.length < PREFIX_BYTES) {
    throw new DataFormatError(
      `${fileName}: not an IDX file: expected at least ${PREFIX_BYTES} header bytes, found ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataFormatError(
      `${fileName}: not an IDX file: magic number ${hex(magic, 8)} should start with two zero bytes ` +
        `(MNIST images are 0x00000803, labels 0x00000801). A gzipped file starts with 0x1f8b; decompress it first.`,
    );
  }
  const typeCode = bytes[2]!;
  if (typeCode !== UNSIGNED_BYTE_TYPE) {
    const typeName = TYPE_NAMES[typeCode] ?? 'unknown type';
    throw new DataFormatError(
      `${fileName}: IDX element type ${hex(typeCode, 2)} (${typeName}) is not supported; ` +
        `only ${hex(UNSIGNED_BYTE_TYPE, 2)} (unsigned byte) is read`,
    );
  }
  const rank = bytes[3]!;
  if (rank === 0) {
    throw new DataFormatError(`${fileName}: IDX header declares 0 dimensions; expected at least 1`);
  }
  const headerBytes = PREFIX_BYTES + rank * DIM_BYTES;
  if (bytes.length < headerBytes) {
    throw new DataFormatError(
      `${fileName}: truncated IDX header: ${rank} dimensions need ${headerBytes} header bytes, found ${bytes.length}`,
    );
  }

  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(PREFIX_BYTES + i * DIM_BYTES, false));
  // A zero dimension makes the tensor empty however large the others are (their product alone may pass
  // Infinity, and Infinity × 0 is NaN); up to 255 u32 dimensions can overflow a double, never a NaN here.
  const elementCount = dims.includes(0) ? 0 : dims.reduce((product, size) => product * size, 1);
  const available = bytes.length - headerBytes;
  if (elementCount !== available) {
    const problem = elementCount > available ? 'truncated' : 'has trailing bytes';
    const count = Number.isSafeInteger(elementCount) ? String(elementCount) : `about ${elementCount.toExponential(2)}`;
    const expected = Number.isSafeInteger(headerBytes + elementCount) ? String(headerBytes + elementCount) : `about ${(headerBytes + elementCount).toExponential(2)}`;
    const shown = dims.length > 8 ? `${dims.slice(0, 8).join(', ')}, ... (${dims.length} in all)` : dims.join(', ');
    throw new DataFormatError(
      `${fileName}: IDX file ${problem}: expected ${expected} bytes ` +
        `(${headerBytes}-byte header + ${count} elements for dimensions [${shown}]), found ${bytes.length}`,
    );
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, elementCount) };
}

/** Writes an unsigned-byte IDX file; the inverse of `parseIdx`. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (dims.length === 0 || dims.length > 255) {
    throw new ShapeError(`encodeIdx: IDX files hold 1 to 255 dimensions, got ${dims.length}`);
  }
  let elementCount = 1;
  for (const size of dims) {
    if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) {
      throw new ShapeError(`encodeIdx: dimension ${size} in [${dims.join(', ')}] is not a u32`);
    }
    elementCount *= size;
  }
  if (data.length !== elementCount) {
    throw new ShapeError(
      `encodeIdx: dimensions [${dims.join(', ')}] hold ${elementCount} elements, but data has ${data.length}`,
    );
  }
  const headerBytes = PREFIX_BYTES + dims.length * DIM_BYTES;
  const out = new Uint8Array(headerBytes + elementCount);
  const view = new DataView(out.buffer);
  out[2] = UNSIGNED_BYTE_TYPE;
  out[3] = dims.length;
  dims.forEach((size, i) => view.setUint32(PREFIX_BYTES + i * DIM_BYTES, size, false));
  out.set(data, headerBytes);
  return out;
}
