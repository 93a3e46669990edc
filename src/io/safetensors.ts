/**
 * The safetensors format (https://github.com/huggingface/safetensors#format):
 *
 *   8 bytes   N, little-endian u64: the header length
 *   N bytes   UTF-8 JSON: { "__metadata__"?: {string: string}, name: {dtype, shape, data_offsets: [begin, end)} }
 *             padded with spaces so the data starts 8-byte aligned
 *   rest      the byte buffer; offsets are relative to its start, and tensors tile it with no gaps or overlap
 *
 * Tensor bytes are little-endian and are copied straight into typed arrays, which use the host's byte
 * order; every host with WebGPU is little-endian (WebGPU's own buffer layout assumes it).
 */
import { ConfigError, DataFormatError, preview, ShapeError } from '../errors';

interface ArrayOfDtype {
  F32: Float32Array;
  /** PyTorch keeps counters such as BatchNorm's num_batches_tracked as I64. */
  I64: BigInt64Array;
  U32: Uint32Array;
  I32: Int32Array;
  U8: Uint8Array;
}
export type SafetensorsDtype = keyof ArrayOfDtype;

/** A tensor whose `data` type matches its `dtype`. */
export type SafetensorsTensor = {
  [D in SafetensorsDtype]: { dtype: D; shape: readonly number[]; data: ArrayOfDtype[D] };
}[SafetensorsDtype];

export type NamedSafetensorsTensor = SafetensorsTensor & { name: string };

export interface DecodedSafetensors {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

const ARRAY_CONSTRUCTORS = {
  F32: Float32Array,
  I64: BigInt64Array,
  U32: Uint32Array,
  I32: Int32Array,
  U8: Uint8Array,
} as const;

const LENGTH_PREFIX_BYTES = 8;
const ALIGNMENT = 8;
const METADATA_KEY = '__metadata__';
/** The reference implementation's limit; a larger value is a corrupt or non-safetensors file. */
const MAX_HEADER_BYTES = 100_000_000;

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(ARRAY_CONSTRUCTORS, value);
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

export function encodeSafetensors(
  tensors: readonly NamedSafetensorsTensor[],
  metadata?: Record<string, string>,
): Uint8Array {
  const names = new Set<string>();
  for (const tensor of tensors) {
    if (tensor.name === METADATA_KEY) throw new ConfigError(`encodeSafetensors: "${METADATA_KEY}" is a reserved name`);
    if (names.has(tensor.name)) throw new ConfigError(`encodeSafetensors: tensor name "${tensor.name}" appears twice`);
    names.add(tensor.name);
    if (!(tensor.data instanceof ARRAY_CONSTRUCTORS[tensor.dtype])) {
      throw new ShapeError(
        `encodeSafetensors: tensor "${tensor.name}" has dtype ${tensor.dtype} ` +
          `but its data is a ${tensor.data.constructor.name}`,
      );
    }
    if (tensor.shape.some((size) => !Number.isInteger(size) || size < 0)) {
      throw new ShapeError(`encodeSafetensors: tensor "${tensor.name}" has invalid shape [${tensor.shape.join(', ')}]`);
    }
    if (elementCount(tensor.shape) !== tensor.data.length) {
      throw new ShapeError(
        `encodeSafetensors: tensor "${tensor.name}" has shape [${tensor.shape.join(', ')}] ` +
          `(${elementCount(tensor.shape)} elements) but ${tensor.data.length} data elements`,
      );
    }
  }

  // Widest elements first (then by name, as the reference writer does) keeps every tensor aligned
  // to its element size within the 8-byte-aligned buffer.
  const ordered = [...tensors].sort(
    (a, b) =>
      b.data.BYTES_PER_ELEMENT - a.data.BYTES_PER_ELEMENT || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  let offset = 0;
  const placed = ordered.map((tensor) => {
    const begin = offset;
    offset += tensor.data.byteLength;
    return { tensor, begin, end: offset };
  });
  // No prototype, so a tensor named "__proto__" is stored like any other name.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata !== undefined) header[METADATA_KEY] = metadata;
  for (const { tensor, begin, end } of placed) {
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [begin, end] };
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.length / ALIGNMENT) * ALIGNMENT;
  const out = new Uint8Array(LENGTH_PREFIX_BYTES + headerBytes + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes), true);
  out.set(json, LENGTH_PREFIX_BYTES);
  out.fill(0x20, LENGTH_PREFIX_BYTES + json.length, LENGTH_PREFIX_BYTES + headerBytes);
  const dataStart = LENGTH_PREFIX_BYTES + headerBytes;
  for (const { tensor, begin } of placed) {
    out.set(new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength), dataStart + begin);
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

interface ParsedHeader {
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** Where the byte buffer begins in the file. */
  dataStart: number;
}

function parseHeader(bytes: Uint8Array, fileName: string): ParsedHeader {
  const fail = (problem: string) => new DataFormatError(`${fileName}: ${problem}`);
  if (bytes.length < LENGTH_PREFIX_BYTES) {
    throw fail(`not a safetensors file: expected at least ${LENGTH_PREFIX_BYTES} bytes, found ${bytes.length}`);
  }
  const declaredLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  const available = bytes.length - LENGTH_PREFIX_BYTES;
  if (declaredLength > BigInt(MAX_HEADER_BYTES)) {
    throw fail(`header length ${declaredLength} exceeds the ${MAX_HEADER_BYTES}-byte limit; not a safetensors file?`);
  }
  const headerLength = Number(declaredLength);
  if (headerLength > available) {
    throw fail(`truncated header: expected ${headerLength} header bytes, found ${available}`);
  }

  let header: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + headerLength),
    );
    header = JSON.parse(text);
  } catch (error) {
    throw fail(`header is not valid UTF-8 JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw fail('header must be a JSON object');
  }

  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw fail(`"${METADATA_KEY}" must be an object of strings`);
      }
      for (const [key, text] of Object.entries(value)) {
        if (typeof text !== 'string') {
          throw fail(`"${METADATA_KEY}.${key}" must be a string, found ${preview(text)}`);
        }
        metadata[key] = text;
      }
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (value ?? {}) as Record<string, unknown>;
    if (!isDtype(dtype)) {
      const supported = Object.keys(ARRAY_CONSTRUCTORS).join(', ');
      throw fail(`tensor ${preview(name)} has dtype ${preview(dtype)}; supported: ${supported}`);
    }
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
      throw fail(`tensor ${preview(name)} has shape ${preview(shape)}; expected an array of non-negative integers`);
    }
    const offsetsValid =
      Array.isArray(offsets) && offsets.length === 2 && offsets.every(isNonNegativeInteger) && offsets[0] <= offsets[1];
    if (!offsetsValid) {
      throw fail(
        `tensor ${preview(name)} has data_offsets ${preview(offsets)}; expected [begin, end] with begin <= end`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const expectedBytes = elementCount(shape) * ARRAY_CONSTRUCTORS[dtype].BYTES_PER_ELEMENT;
    if (end - begin !== expectedBytes) {
      throw fail(
        `tensor ${preview(name)} (${dtype} [${shape.join(', ')}]) needs ${expectedBytes} bytes, ` +
          `but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  return { entries, metadata, dataStart: LENGTH_PREFIX_BYTES + headerLength };
}

export function decodeSafetensors(bytes: Uint8Array, fileName: string): DecodedSafetensors {
  const fail = (problem: string) => new DataFormatError(`${fileName}: ${problem}`);
  const { entries, metadata, dataStart } = parseHeader(bytes, fileName);

  // Sorted by position, the tensors must tile the byte buffer exactly, as the spec requires.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const entry of entries) {
    if (entry.begin !== covered) {
      const problem = entry.begin < covered ? 'overlaps the previous tensor' : `leaves a gap after byte ${covered}`;
      throw fail(`tensor ${preview(entry.name)} at data_offsets [${entry.begin}, ${entry.end}] ${problem}`);
    }
    covered = entry.end;
  }
  const foundBytes = bytes.length - dataStart;
  if (foundBytes < covered) throw fail(`truncated: expected ${covered} bytes of tensor data, found ${foundBytes}`);
  if (foundBytes > covered) {
    throw fail(`expected ${covered} bytes of tensor data, found ${foundBytes} (trailing bytes no tensor refers to)`);
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    const Constructor = ARRAY_CONSTRUCTORS[dtype];
    // Copy rather than view: the source offset need not be a multiple of the element size.
    const data = new Constructor((end - begin) / Constructor.BYTES_PER_ELEMENT);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, shape, data } as SafetensorsTensor);
  }
  return { tensors, metadata };
}
