// Fuzzed safetensors files (src/io/safetensors.ts): raw byte mutations, and structural mutations of the
// JSON header re-encoded with a correct length prefix, so the header's meaning is what gets fuzzed.
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { Rng } from '../../src/data/rng';
import { byteCases, expectClean, mutateJson, runFuzz, type FuzzCase } from '../helpers/fuzz';

const corpus = [
  encodeSafetensors(
    [
      { name: 'fc1.weight', dtype: 'F32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7) },
      { name: 'fc1.bias', dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) },
      { name: 'steps', dtype: 'U32', shape: [2], data: new Uint32Array([7, 8]) },
      { name: 'mask', dtype: 'U8', shape: [5], data: new Uint8Array([1, 0, 1, 1, 0]) },
    ],
    { format: 'pt', note: 'corpus' },
  ),
  encodeSafetensors([{ name: 'x', dtype: 'I32', shape: [], data: new Int32Array([-5]) }]),
  encodeSafetensors([{ name: 'empty', dtype: 'F32', shape: [0, 3], data: new Float32Array(0) }], {}),
];

/** Splits a file into its header object and its byte buffer. */
function split(file: Uint8Array): { header: unknown; data: Uint8Array } {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))), data: file.subarray(8 + length) };
}

function join(headerText: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function* headerCases(seed: number, count: number): Generator<FuzzCase<Uint8Array>> {
  const rng = new Rng(seed);
  for (let i = 0; i < count; i++) {
    const k = rng.nextBelow(corpus.length);
    let { header, data } = split(corpus[k]);
    const steps: string[] = [];
    for (let d = 0, n = 1 + rng.nextBelow(3); d < n; d++) {
      const mutated = mutateJson(header, rng);
      header = mutated.value;
      steps.push(mutated.how);
    }
    if (rng.nextBelow(6) === 0) {
      data = data.subarray(0, rng.nextBelow(data.length + 1));
      steps.push(`data cut to ${data.length} bytes`);
    }
    yield { input: join(JSON.stringify(header) ?? '', data), how: `header seed ${seed} #${i} (corpus ${k}): ${steps.join(', then ')}` };
  }
  for (const depth of [1000, 200_000]) yield { input: join(`{"t": {"dtype": "F32", "shape": ${'['.repeat(depth)}${']'.repeat(depth)}, "data_offsets": [0, 0]}}`, new Uint8Array(0)), how: `a shape nested ${depth} deep` };
  yield { input: join(`{"t": {"dtype": "U8", "shape": [2147483648], "data_offsets": [0, 2147483648]}}`, new Uint8Array(4)), how: 'a 2^31-element tensor declared over 4 bytes' };
  yield { input: join(`{"t": {"dtype": "F32", "shape": [65536, 65536], "data_offsets": [0, 17179869184]}}`, new Uint8Array(8)), how: 'a 2^32-element tensor declared over 8 bytes' };
}

const ELEMENT_BYTES = { F32: 4, I64: 8, U32: 4, I32: 4, U8: 1 } as const;

const fuzzOptions = {
  parse: (input: Uint8Array) => decodeSafetensors(input, 'fuzz.safetensors'),
  check: ({ tensors }: ReturnType<typeof decodeSafetensors>) => {
    for (const [name, t] of tensors) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== count) return `tensor ${name} has shape [${t.shape}] but ${t.data.length} elements`;
      if (t.data.BYTES_PER_ELEMENT !== ELEMENT_BYTES[t.dtype]) return `tensor ${name} is ${t.dtype} in a ${t.data.constructor.name}`;
    }
    return undefined;
  },
  // The tensors are copied out of the file, so a parsed file may take its own size again.
  allocation: { fixedBytes: 256 * 1024, perInputByte: 3 },
};

describe('safetensors reader under fuzzing', () => {
  it('3000 byte-level truncations and mutations: each parsed or refused with a DataFormatError', () => {
    const report = expectClean(runFuzz({ ...fuzzOptions, cases: byteCases(11, corpus, { count: 3000, fields: [0, 4] }) }), 3000);
    expect(Object.keys(report.refusedBy)).toEqual(['DataFormatError']);
    expect(report.parsed).toBeGreaterThan(corpus.length);
  });

  it('3000 structural mutations of the JSON header: each parsed or refused with a DataFormatError', () => {
    const report = expectClean(runFuzz({ ...fuzzOptions, cases: headerCases(12, 3000) }), 3000);
    expect(Object.keys(report.refusedBy)).toEqual(['DataFormatError']);
    expect(report.parsed).toBeGreaterThan(10);
  });
});
