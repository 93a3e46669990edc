/**
 * The NumPy `.npy` format (numpy.lib.format, what `np.save` writes):
 *
 *   bytes 0-5  magic "\x93NUMPY"
 *   byte  6-7  format version major, minor: 1.0, 2.0 or 3.0
 *   then       header length: u16 little-endian (1.0) or u32 little-endian (2.0, 3.0)
 *   then       the header, a Python dict literal in latin-1 (1.0, 2.0) or UTF-8 (3.0), space-padded, e.g.
 *                {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
 *   then       product(shape) elements of `descr`, C order (or Fortran order when fortran_order is True)
 *
 * Only plain numeric little-endian arrays are read: '|u1' '|i1' '<i2' '<u2' '<i4' '<u4' '<i8' '<u8' '<f4'
 * '<f8'. Everything else (big-endian, float16, complex, strings, structured and object arrays) is refused
 * with a DataFormatError naming the file, as is any header or length that does not add up. Sizes are checked
 * against the file before anything is allocated, so a header claiming 10^18 elements costs nothing.
 */
import { DataFormatError, preview, ShapeError } from '../errors';
import { HeaderSyntax, parsePythonLiteral, type PyValue } from './python_literal';

export type NpyData = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array;

export type NpyDtype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';

export interface NpyArray {
  /** Dimensions, outermost first; [] for a 0-d array (one element). */
  shape: number[];
  /** The file's element type. */
  dtype: NpyDtype;
  /**
   * The elements in C (row-major) order. 64-bit integers come as a Float64Array (every value is checked to be
   * a safe integer, so it is exact); float64 comes as a Float32Array, rounded to nearest, since the engine
   * computes in float32. The other types keep their own typed array.
   */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREFIX_BYTES = 8; // magic + version
/** numpy caps a rank at 64 (NPY_MAXDIMS in numpy 2; 32 before). */
const MAX_RANK = 64;

interface DtypeInfo {
  dtype: NpyDtype;
  bytes: number;
}

/** Keyed by kind and size, the byte-order character handled separately. */
const DTYPES: Record<string, DtypeInfo> = {
  u1: { dtype: 'uint8', bytes: 1 },
  i1: { dtype: 'int8', bytes: 1 },
  i2: { dtype: 'int16', bytes: 2 },
  u2: { dtype: 'uint16', bytes: 2 },
  i4: { dtype: 'int32', bytes: 4 },
  u4: { dtype: 'uint32', bytes: 4 },
  i8: { dtype: 'int64', bytes: 8 },
  u8: { dtype: 'uint64', bytes: 8 },
  f4: { dtype: 'float32', bytes: 4 },
  f8: { dtype: 'float64', bytes: 8 },
};

export const NPY_SUPPORTED_DESCRS = ['|u1', '|i1', '<i2', '<u2', '<i4', '<u4', '<i8', '<u8', '<f4', '<f8'];

/** What a refused descr is, for the message: 'float16', 'complex64', 'a string' ... */
function describeKind(kind: string, size: string): string {
  const bits = Number(size) * 8;
  switch (kind) {
    case 'f':
      return `float${bits}`;
    case 'c':
      return `complex${bits}`;
    case 'i':
      return `int${bits}`;
    case 'u':
      return `uint${bits}`;
    case 'b':
      return 'bool';
    case 'U':
    case 'S':
    case 'a':
      return 'strings';
    case 'O':
      return 'Python objects (pickled)';
    case 'M':
    case 'm':
      return 'dates or times';
    case 'V':
      return 'raw void records';
    default:
      return 'an unknown type';
  }
}

/** A string from the header as a message quotes it: one line, at most 30 characters. */
const quoted = (s: string) => {
  const escaped = JSON.stringify(s).slice(1, -1);
  return escaped.length > 30 ? `${escaped.slice(0, 29)}…` : escaped;
};

interface Header {
  info: DtypeInfo;
  fortranOrder: boolean;
  shape: number[];
}

function readHeader(text: string, fileName: string): Header {
  const notDict = (problem: string) => new DataFormatError(`${fileName}: the NPY header is not a Python dict literal: ${problem} (header ${preview(text.trim(), 80)})`);
  let parsed: PyValue;
  try {
    parsed = parsePythonLiteral(text);
  } catch (error) {
    if (error instanceof HeaderSyntax) throw notDict(error.message);
    throw error;
  }
  if (!(parsed instanceof Map)) throw notDict('it is not a dict');
  const keys = ['descr', 'fortran_order', 'shape'];
  const missing = keys.filter((k) => !parsed.has(k));
  const extra = [...parsed.keys()].filter((k) => !keys.includes(k));
  if (missing.length || extra.length) {
    throw new DataFormatError(
      `${fileName}: the NPY header must have exactly the keys 'descr', 'fortran_order' and 'shape'; ` +
        [missing.length ? `${missing.map((k) => `'${k}'`).join(', ')} missing` : '', extra.length ? `${extra.slice(0, 4).map((k) => `'${quoted(k)}'`).join(', ')} unexpected` : ''].filter(Boolean).join(', '),
    );
  }
  const descr = parsed.get('descr');
  if (typeof descr !== 'string') {
    throw new DataFormatError(`${fileName}: the array has a structured dtype (descr ${preview(descr instanceof Map ? 'a dict' : descr, 60)}); only plain numeric arrays are read, e.g. '<f4' or '|u1'`);
  }
  const fortranOrder = parsed.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') throw new DataFormatError(`${fileName}: the NPY header's 'fortran_order' must be True or False; got ${preview(fortranOrder)}`);
  const shapeValue = parsed.get('shape');
  if (typeof shapeValue !== 'object' || shapeValue === null || !('tuple' in shapeValue)) {
    throw new DataFormatError(`${fileName}: the NPY header's 'shape' must be a tuple of integers such as (60000, 28, 28) or (10,); got ${preview(shapeValue)}`);
  }
  const shape = shapeValue.tuple;
  if (shape.length > MAX_RANK) throw new DataFormatError(`${fileName}: the shape has ${shape.length} dimensions; numpy arrays have at most ${MAX_RANK}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new DataFormatError(`${fileName}: the NPY header's 'shape' must hold non-negative integers; got ${preview(shape.map((v) => (typeof v === 'number' ? v : String(v))), 80)}`);
    }
  }
  return { info: dtypeOf(descr, fileName), fortranOrder, shape: shape as number[] };
}

function dtypeOf(descr: string, fileName: string): DtypeInfo {
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) throw new DataFormatError(`${fileName}: dtype '${quoted(descr)}' is not a numpy type string such as '<f4'; supported: ${NPY_SUPPORTED_DESCRS.join(', ')}`);
  const [, order, kind, size] = m;
  const info = DTYPES[kind + size];
  if (!info) throw new DataFormatError(`${fileName}: dtype '${descr}' (${describeKind(kind, size)}) is not supported; supported: ${NPY_SUPPORTED_DESCRS.join(', ')}`);
  // A byte has no order: numpy writes '|' for it, but '<' and '>' mean the same.
  if (info.bytes > 1) {
    if (order === '>') {
      throw new DataFormatError(`${fileName}: dtype '${descr}' is big-endian; only little-endian files are read (save it with x.astype('<${kind}${size}'))`);
    }
    if (order !== '<') throw new DataFormatError(`${fileName}: dtype '${descr}' gives no byte order ('${order}'); a ${info.bytes}-byte type must be '<${kind}${size}' (little-endian)`);
  }
  return info;
}

// ---------------------------------------------------------------------------------------------------------

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const formatNumber = (n: number) => (Number.isSafeInteger(n) ? String(n) : `about ${n.toExponential(2)}`);
const formatShape = (shape: readonly number[]) => `(${shape.length > 8 ? `${shape.slice(0, 8).join(', ')}, ... ${shape.length} in all` : shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

/**
 * Parses a .npy file. The data is always a fresh array (not a view into `bytes`), in C order; `fileName`
 * names the file in every error.
 */
export function parseNpy(bytes: Uint8Array, fileName: string): NpyArray {
  if (bytes.length < PREFIX_BYTES || MAGIC.some((b, i) => bytes[i] !== b)) {
    const gz = bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (it starts like a gzip file; decompress it first)' : bytes[0] === 0x50 && bytes[1] === 0x4b ? ' (it starts like a zip file: an .npz holds .npy files; unpack it first)' : '';
    throw new DataFormatError(`${fileName}: not an NPY file: it does not start with the magic bytes \\x93NUMPY${bytes.length < PREFIX_BYTES ? ` (the file has ${bytes.length} bytes)` : ''}${gz}`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (!(major >= 1 && major <= 3) || minor !== 0) {
    throw new DataFormatError(`${fileName}: NPY format version ${major}.${minor} is not supported; versions 1.0, 2.0 and 3.0 are read`);
  }
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < PREFIX_BYTES + lengthBytes) {
    throw new DataFormatError(`${fileName}: truncated NPY header: version ${major}.0 needs ${PREFIX_BYTES + lengthBytes} bytes before the header, found ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(PREFIX_BYTES, true) : view.getUint32(PREFIX_BYTES, true);
  const dataStart = PREFIX_BYTES + lengthBytes + headerLength;
  if (bytes.length < dataStart) {
    throw new DataFormatError(`${fileName}: truncated NPY header: it declares ${headerLength} header bytes, but the file has ${bytes.length - PREFIX_BYTES - lengthBytes} after the length field`);
  }
  const headerBytes = bytes.subarray(PREFIX_BYTES + lengthBytes, dataStart);
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(headerBytes);
  } catch {
    throw new DataFormatError(`${fileName}: the NPY header is not valid UTF-8`);
  }
  const { info, fortranOrder, shape } = readHeader(text, fileName);

  // A zero dimension empties the array however large the others are (their product alone may pass Infinity).
  const count = shape.includes(0) ? 0 : shape.reduce((a, b) => a * b, 1);
  const expected = count * info.bytes;
  const available = bytes.length - dataStart;
  if (expected !== available) {
    const problem = expected > available ? 'is truncated' : `has ${formatNumber(available - expected)} trailing bytes`;
    throw new DataFormatError(
      `${fileName}: the NPY file ${problem}: shape ${formatShape(shape)} of ${info.dtype} needs ${formatNumber(expected)} data bytes after the ${dataStart}-byte header, found ${available}`,
    );
  }
  const data = decode(bytes.subarray(dataStart), info, count, fileName);
  return { shape: [...shape], dtype: info.dtype, data: fortranOrder && shape.length > 1 ? toCOrder(data, shape) : data };
}

/** The elements of `raw` (exactly count × size bytes) as the dtype's typed array. */
function decode(raw: Uint8Array, info: DtypeInfo, count: number, fileName: string): NpyData {
  // One copy into a fresh, aligned buffer; then the typed array reads it in the host's order, which is
  // little-endian on every platform JS runs on today (a big-endian host takes the DataView path).
  // (Not raw.slice(): on a Node Buffer, which readFile returns, slice is a view into the shared pool.)
  const buffer = () => {
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    return copy.buffer;
  };
  if (info.bytes === 1) return info.dtype === 'uint8' ? new Uint8Array(buffer()) : new Int8Array(buffer());
  if (!LITTLE_ENDIAN_HOST) return decodeWithDataView(raw, info, count, fileName);
  // The 8-byte types are converted into a new array anyway, so they are read in place when aligned (a
  // float64 x_train of MNIST is 376 MB; readFile's buffer of a large file starts at offset 0).
  const wide = <T>(type: { new (b: ArrayBufferLike, offset: number, length: number): T; BYTES_PER_ELEMENT: number }): T => {
    const length = raw.byteLength / type.BYTES_PER_ELEMENT;
    return raw.byteOffset % 8 === 0 ? new type(raw.buffer, raw.byteOffset, length) : new type(buffer(), 0, length);
  };
  switch (info.dtype) {
    case 'int16':
      return new Int16Array(buffer());
    case 'uint16':
      return new Uint16Array(buffer());
    case 'int32':
      return new Int32Array(buffer());
    case 'uint32':
      return new Uint32Array(buffer());
    case 'float32':
      return new Float32Array(buffer());
    case 'float64': {
      const doubles = wide(Float64Array);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = checkedFloat32(doubles[i], i, fileName);
      return out;
    }
    default: {
      // int64 and uint64 as two 32-bit halves: high × 2^32 + low is exact whenever the value is a safe integer
      // (it only rounds beyond 2^53, where Number.isSafeInteger is false either way).
      const words = wide(Uint32Array);
      const signed = info.dtype === 'int64';
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const high = signed ? words[2 * i + 1] | 0 : words[2 * i + 1];
        out[i] = checkedInt64(high * 4294967296 + words[2 * i], high, words[2 * i], i, info.dtype, fileName);
      }
      return out;
    }
  }
}

function decodeWithDataView(raw: Uint8Array, info: DtypeInfo, count: number, fileName: string): NpyData {
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const fill = <T extends NpyData>(out: T, read: (i: number) => number): T => {
    for (let i = 0; i < count; i++) out[i] = read(i);
    return out;
  };
  switch (info.dtype) {
    case 'int16':
      return fill(new Int16Array(count), (i) => v.getInt16(2 * i, true));
    case 'uint16':
      return fill(new Uint16Array(count), (i) => v.getUint16(2 * i, true));
    case 'int32':
      return fill(new Int32Array(count), (i) => v.getInt32(4 * i, true));
    case 'uint32':
      return fill(new Uint32Array(count), (i) => v.getUint32(4 * i, true));
    case 'float32':
      return fill(new Float32Array(count), (i) => v.getFloat32(4 * i, true));
    case 'float64':
      return fill(new Float32Array(count), (i) => checkedFloat32(v.getFloat64(8 * i, true), i, fileName));
    default: {
      const signed = info.dtype === 'int64';
      return fill(new Float64Array(count), (i) => {
        const low = v.getUint32(8 * i, true);
        const high = signed ? v.getInt32(8 * i + 4, true) : v.getUint32(8 * i + 4, true);
        return checkedInt64(high * 4294967296 + low, high, low, i, info.dtype, fileName);
      });
    }
  }
}

/** A float64 as float32 (rounded to nearest); a finite value beyond float32's range is refused, not made Infinity. */
function checkedFloat32(value: number, index: number, fileName: string): number {
  const rounded = Math.fround(value);
  if (!Number.isFinite(rounded) && Number.isFinite(value)) {
    throw new DataFormatError(`${fileName}: element ${index} is ${value}, beyond float32's range (±3.4e38); the engine computes in float32`);
  }
  return rounded;
}

function checkedInt64(value: number, high: number, low: number, index: number, dtype: NpyDtype, fileName: string): number {
  if (!Number.isSafeInteger(value)) {
    const exact = (BigInt(high) << 32n) | BigInt(low);
    throw new DataFormatError(`${fileName}: element ${index} is ${exact}, beyond the integers a double holds exactly (±2^53 − 1); ${dtype} is read only when every value fits`);
  }
  return value;
}

/** A Fortran-order (first index fastest) array rewritten in C order (last index fastest). */
function toCOrder<T extends NpyData>(data: T, shape: readonly number[]): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  if (data.length === 0) return out;
  const rank = shape.length;
  const cStrides = new Array<number>(rank);
  for (let d = rank - 1, s = 1; d >= 0; d--) {
    cStrides[d] = s;
    s *= shape[d];
  }
  const index = new Array<number>(rank).fill(0);
  let c = 0;
  for (let f = 0; f < data.length; f++) {
    out[c] = data[f];
    // Advance the multi-index with the first dimension fastest, keeping the C offset in step.
    for (let d = 0; d < rank; d++) {
      index[d]++;
      c += cStrides[d];
      if (index[d] < shape[d]) break;
      c -= cStrides[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

export type NpyInput = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

function descrOf(data: NpyInput): string {
  if (data instanceof Uint8Array) return '|u1';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Uint16Array) return '<u2';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Uint32Array) return '<u4';
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof BigInt64Array) return '<i8';
  if (data instanceof BigUint64Array) return '<u8';
  throw new ShapeError(`encodeNpy: data must be a typed array; got ${Object.prototype.toString.call(data)}`);
}

export interface EncodeNpyOptions {
  /** Format version (default 1, or 2 when the header does not fit version 1's u16 length). */
  version?: 1 | 2 | 3;
  /** Writes fortran_order: True; the caller gives the data in Fortran order (first index fastest). */
  fortranOrder?: boolean;
}

/**
 * Writes a .npy file as np.save does (the header space-padded to a multiple of 64 bytes and ending in a
 * newline); the dtype follows the typed array. The inverse of `parseNpy`, for tests and fixtures.
 */
export function encodeNpy(shape: readonly number[], data: NpyInput, options: EncodeNpyOptions = {}): Uint8Array {
  const descr = descrOf(data);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new ShapeError(`encodeNpy: shape [${shape.join(', ')}] must hold non-negative integers`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new ShapeError(`encodeNpy: shape [${shape.join(', ')}] holds ${count} elements, but data has ${data.length}`);
  const dict = `{'descr': '${descr}', 'fortran_order': ${options.fortranOrder ? 'True' : 'False'}, 'shape': ${formatShape(shape)}, }`;
  let version = options.version ?? 1;
  const headerFor = (v: number) => {
    const before = PREFIX_BYTES + (v === 1 ? 2 : 4);
    const padded = Math.ceil((before + dict.length + 1) / 64) * 64;
    return { before, text: dict + ' '.repeat(padded - before - dict.length - 1) + '\n' };
  };
  let header = headerFor(version);
  if (version === 1 && header.text.length > 0xffff) header = headerFor((version = 2));
  const text = new TextEncoder().encode(header.text);
  const out = new Uint8Array(header.before + text.length + data.byteLength);
  out.set(MAGIC);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(PREFIX_BYTES, text.length, true);
  else view.setUint32(PREFIX_BYTES, text.length, true);
  out.set(text, header.before);
  const body = out.subarray(header.before + text.length);
  if (LITTLE_ENDIAN_HOST) {
    body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } else {
    throw new ShapeError('encodeNpy: writing on a big-endian host is not supported');
  }
  return out;
}
