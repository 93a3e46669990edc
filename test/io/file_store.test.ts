/** fileStore (Node): a ByteStore over a folder, one atomically written file per key. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, DataFormatError } from '../../src/errors';
import { fileStore } from '../../src/io/file_store';

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'webgrad-store-'));
  dirs.push(dir);
  return path.join(dir, 'runs'); // not created yet: the first save makes it
};
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('fileStore', () => {
  it('saves, loads, lists, replaces and deletes; keys are plain file names', async () => {
    const dir = fresh();
    const store = fileStore(dir);
    expect(await store.keys()).toEqual([]);
    expect(await store.has('a.safetensors')).toBe(false);
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
    await store.save('a.safetensors', bytes.subarray(10, 500));
    expect(await store.load('a.safetensors')).toEqual(bytes.subarray(10, 500));
    await store.save('a.safetensors', bytes);
    await store.save('b', new Uint8Array([1]));
    expect((await store.keys()).sort()).toEqual(['a.safetensors', 'b']);
    expect(await store.load('a.safetensors')).toEqual(bytes);
    // Written beside the target and renamed over it: no temporary file is left or listed.
    writeFileSync(path.join(dir, 'c.tmp'), 'half');
    expect(readdirSync(dir).sort()).toEqual(['a.safetensors', 'b', 'c.tmp']);
    expect((await store.keys()).sort()).toEqual(['a.safetensors', 'b']);
    await store.delete('b');
    expect(await store.has('b')).toBe(false);
    expect(store.location).toBe(path.resolve(dir));
  });

  it('a missing key names the store and what it holds; a key with a path in it is refused', async () => {
    const store = fileStore(fresh());
    await store.save('run', new Uint8Array([1, 2]));
    const error = await store.load('other').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toMatch(/runs: nothing saved under 'other' \(it holds 'run'\)/);
    for (const key of ['../escape', 'a/b', '.hidden', '', 'x'.repeat(201)]) {
      await expect(store.save(key, new Uint8Array(1)), key).rejects.toThrow(ConfigError);
    }
  });
});
