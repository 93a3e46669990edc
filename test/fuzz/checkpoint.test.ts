// Fuzzed checkpoints (src/io/checkpoint.ts decodeCheckpoint): byte mutations of whole files, and mutations of
// each metadata field (text mutations of the counters, structural JSON mutations of the generator and schedule
// state) re-encoded into an otherwise valid file. Each is decoded with a fully checked run state, or refused
// with a DataFormatError or ShapeError naming the file.
import { describe, expect, it } from 'vitest';
import { type CheckpointMeta } from '../../src/io/checkpoint';
import { decodeSafetensors, encodeSafetensors, type NamedSafetensorsTensor } from '../../src/io/safetensors';
import { checkpointModel } from '../helpers/checkpoint';
import { Rng } from '../../src/data/rng';
import { byteCases, expectClean, mutateJson, mutateText, pick, runFuzz, type FuzzCase } from '../helpers/fuzz';

const subject = checkpointModel({ layers: [5, 4, 3], norm: 'batch' });
const { arena } = subject;
const floats = (k: number) => Float32Array.from({ length: arena.totalFloats }, (_, i) => Math.cos(k + i));
const meta: CheckpointMeta = {
  epoch: 3,
  step: 40,
  seed: 9,
  shuffleRng: JSON.stringify([123, 4567, 89, 1011]),
  model: JSON.stringify({ layers: [5, 4, 3], norm: 'batch' }),
  optimizer: JSON.stringify({ name: 'adam', lr: 0.001 }),
  scheduler: JSON.stringify({ scale: 0.1, best: 0.25, badEpochs: 2 }),
};
const good = subject.encode({ params: floats(1), state1: floats(2), state2: floats(3), meta });
const { tensors, metadata } = decodeSafetensors(good, 'good');
const named: NamedSafetensorsTensor[] = [...tensors].map(([name, t]) => ({ name, ...t }) as NamedSafetensorsTensor);

function* metadataCases(seed: number, count: number): Generator<FuzzCase<Uint8Array>> {
  const rng = new Rng(seed);
  const keys = Object.keys(metadata);
  for (let i = 0; i < count; i++) {
    const changed: Record<string, string> = { ...metadata };
    const steps: string[] = [];
    for (let d = 0, n = 1 + rng.nextBelow(2); d < n; d++) {
      const key = pick(rng, keys);
      const choice = rng.nextBelow(6);
      if (choice === 0) {
        delete changed[key];
        steps.push(`delete ${key}`);
      } else if (choice <= 2 && (key === 'shuffle_rng' || key === 'scheduler' || key === 'model' || key === 'optimizer')) {
        const { value, how } = mutateJson(JSON.parse(metadata[key]), rng);
        changed[key] = JSON.stringify(value) ?? '';
        steps.push(`${key}: ${how}`);
      } else {
        const { text, how } = mutateText(changed[key] ?? '', rng);
        changed[key] = text;
        steps.push(`${key}: ${how}`);
      }
    }
    yield { input: encodeSafetensors(named, changed), how: `metadata seed ${seed} #${i}: ${steps.join(', then ')}` };
  }
}

const fuzzOptions = {
  parse: (input: Uint8Array) => subject.decode(input, 'fuzz.safetensors'),
  check: (d: ReturnType<typeof subject.decode>) => {
    const { epoch, step, seed } = d.meta;
    if (![epoch, step, seed].every((n) => Number.isSafeInteger(n) && n >= 0)) return `counters ${epoch}, ${step}, ${seed}`;
    if (d.shuffleRngState.length !== 4 || d.shuffleRngState.every((w) => w === 0)) return `generator state ${d.shuffleRngState}`;
    const s = d.schedulerState;
    if (s.scale !== undefined && !(s.scale > 0)) return `schedule scale ${s.scale}`;
    if (s.badEpochs !== undefined && !Number.isInteger(s.badEpochs)) return `schedule badEpochs ${s.badEpochs}`;
    return undefined;
  },
  // The three arena-sized arrays are the decoder's own, whatever the file says.
  allocation: { fixedBytes: (1 << 20) + 3 * 4 * arena.totalFloats, perInputByte: 3 },
};

describe('checkpoint decoding under fuzzing', () => {
  it('3000 byte-level truncations and mutations of a checkpoint', () => {
    const report = expectClean(runFuzz({ ...fuzzOptions, cases: byteCases(21, [good], { count: 3000, fields: [0] }) }), 3000);
    expect(report.parsed).toBeGreaterThan(0);
    expect(Object.keys(report.refusedBy).sort()).toEqual(expect.arrayContaining(['DataFormatError']));
  });

  it('3000 mutations of the metadata fields in an otherwise valid checkpoint', () => {
    const report = expectClean(runFuzz({ ...fuzzOptions, cases: metadataCases(22, 3000) }), 3000);
    expect(report.parsed).toBeGreaterThan(100);
    expect(report.refused).toBeGreaterThan(1000);
    expect(Object.keys(report.refusedBy)).toEqual(['DataFormatError']);
  });
});
