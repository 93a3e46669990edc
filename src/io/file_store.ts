/** Node only: a ByteStore over a folder, one file per key, each written atomically (see atomic_write.ts). */
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomically } from './atomic_write';
import { checkKey, missingKey, type ByteStore } from './byte_store';

/** A ByteStore in folder `dir` (created on the first save): key 'run.safetensors' is the file dir/run.safetensors. */
export function fileStore(dir: string): ByteStore {
  const location = resolve(dir);
  const isFile = (path: string) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false;
    }
  };
  const keys = async () => {
    try {
      return readdirSync(location).filter((name) => !name.endsWith('.tmp') && isFile(join(location, name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  };
  return {
    location,
    async save(key, bytes) {
      mkdirSync(location, { recursive: true });
      writeFileAtomically(join(location, checkKey(key)), bytes);
    },
    async load(key) {
      const path = join(location, checkKey(key));
      if (!isFile(path)) throw missingKey(location, key, await keys());
      return new Uint8Array(readFileSync(path));
    },
    async has(key) {
      return isFile(join(location, checkKey(key)));
    },
    async delete(key) {
      rmSync(join(location, checkKey(key)), { force: true });
    },
    keys,
  };
}
