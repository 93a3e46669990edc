// `npm run train` with the transfer flags, in process on the real adapter: pretrain on digits 0-4 and
// save, then learn 5-9 from the saved body with --new-head and --freeze; the saved result keeps the
// frozen layer exactly as loaded and has a fresh, trained head.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/train';
import { decodeSafetensors } from '../../src/io/safetensors';
import { runInProcess, temporaryFolder } from '../helpers/cli';

const tensors = (file: string) => decodeSafetensors(new Uint8Array(readFileSync(file)), file).tensors;

describe('train: --weights with --new-head, --freeze, --lr-mult and --unfreeze-every', () => {
  it('pretrain on 0-4, then a new head on 5-9 over the frozen body', async () => {
    const dir = temporaryFolder('transfer');
    const body = join(dir, 'body.safetensors');
    const head = join(dir, 'head.safetensors');
    const common = ['--layers', '784-32-5', '--batch-size', '50', '--epochs', '1'];
    const pre = await runInProcess('train', main, [...common, '--classes', '0-4', '--subset', '500', '--save', body, '--json']);
    expect(pre.err.filter(Boolean)).toEqual([]);
    expect(pre.status).toBe(0);
    const run = await runInProcess('train', main, [...common, '--classes', '5-9', '--subset', '200', '--weights', body, '--new-head', '--freeze', '0-2', '--save', head]);
    expect(run.err.filter(Boolean)).toEqual([]);
    expect(run.status).toBe(0);
    expect(run.out).toContain(`momentum lr 0.05, batch 50, starting from ${body} with a new head`);
    expect(run.out).toContain('transfer: frozen layers 0, 1, 2');
    const [before, after] = [tensors(body), tensors(head)];
    expect([...after.get('1.weight')!.data], 'the frozen body is as loaded').toEqual([...before.get('1.weight')!.data]);
    expect([...after.get('1.bias')!.data]).toEqual([...before.get('1.bias')!.data]);
    expect(after.get('3.weight')!.shape).toEqual([5, 32]);
    expect([...after.get('3.weight')!.data]).not.toEqual([...before.get('3.weight')!.data]);
    // Progressive unfreezing and multipliers: the log says what thaws and what is scaled.
    const thaw = await runInProcess('train', main, [...common, '--classes', '5-9', '--subset', '200', '--weights', body, '--new-head', '--freeze', '1', '--unfreeze-every', '1', '--lr-mult', '1:0.1', '--epochs', '2', '--json']);
    expect(thaw.err.filter(Boolean)).toEqual([]);
    expect(thaw.status).toBe(0);
    const lines = thaw.out.filter(Boolean).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch ?? 'final')).toEqual([1, 2, 'final']);
    expect(lines[0].layerGradNorms, 'the JSON lines leave the per-layer norms out').toBeUndefined();
  }, 180_000);
});
