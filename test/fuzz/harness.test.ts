// The fuzz harness itself: it must catch each kind of failure it claims to, and be a function of its seed.
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import { byteCases, jsonCases, runFuzz, textCases, truncationLengths, type FuzzCase } from '../helpers/fuzz';

const cases = (inputs: Uint8Array[]): FuzzCase<Uint8Array>[] => inputs.map((input, i) => ({ input, how: `case ${i}` }));

describe('fuzz harness', () => {
  it('counts typed refusals as refusals and anything else thrown as a failure', () => {
    const report = runFuzz({
      cases: cases([new Uint8Array([1]), new Uint8Array([2]), new Uint8Array([3])]),
      parse: (b) => {
        if (b[0] === 2) throw new DataFormatError('two');
        if (b[0] === 3) return (undefined as unknown as { x: number }).x;
        return b[0];
      },
    });
    expect([report.parsed, report.refused]).toEqual([1, 1]);
    expect(report.refusedBy).toEqual({ DataFormatError: 1 });
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]).toMatch(/^case 2: threw TypeError/);
  });

  it('flags a reader that allocates what a header declares instead of what the input holds', () => {
    const report = runFuzz({ cases: cases([new Uint8Array(16)]), parse: () => new Float32Array(16 << 20) });
    expect(report.failures[0]).toMatch(/allocated \d+ bytes for a 16-byte input/);
  });

  it('flags a slow case and a result the check refuses', () => {
    const slow = runFuzz({ cases: cases([new Uint8Array(1)]), maxMsPerCase: 5, parse: () => { const end = performance.now() + 20; while (performance.now() < end); } });
    expect(slow.failures[0]).toMatch(/took \d+ ms \(limit 5\)/);
    const wrong = runFuzz({ cases: cases([new Uint8Array(1)]), parse: () => 1, check: (n) => (n === 1 ? 'one is wrong' : undefined) });
    expect(wrong.failures[0]).toMatch(/parsed, but one is wrong/);
  });

  it('generates the same cases from the same seed, and different ones from another', () => {
    const corpus = [Uint8Array.from({ length: 50 }, (_, i) => i)];
    const list = (seed: number) => [...byteCases(seed, corpus, { count: 200 })].map((c) => `${c.how} ${Buffer.from(c.input).toString('hex')}`);
    expect(list(3)).toEqual(list(3));
    expect(list(3)).not.toEqual(list(4));
    const texts = (seed: number) => [...textCases(seed, ['784-10 relu'], { count: 100 })].map((c) => c.input);
    expect(texts(5)).toEqual(texts(5));
    const json = [...jsonCases(1, [{ layers: [1, 2] }], { count: 100 })];
    expect(new Set(json.map((c) => c.input)).size).toBeGreaterThan(50);
  });

  it('truncates at every short length, around powers of two, and near the end', () => {
    const lengths = truncationLengths(300);
    for (const n of [0, 1, 17, 40, 63, 64, 65, 127, 128, 129, 255, 256, 257, 284, 299]) expect(lengths).toContain(n);
    expect(lengths).not.toContain(300);
  });
});
