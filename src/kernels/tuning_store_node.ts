/**
 * Node: tuning tables in one JSON file, `{ adapterKey: { productKey: variantId } }`, by default
 * $XDG_CACHE_HOME/webgrad/tuning.json or ~/.cache/webgrad/tuning.json. Written whole to a temporary file and
 * renamed over (src/io/atomic_write.ts), so a crash never leaves half a file; an unreadable or corrupt file
 * counts as empty, and an unwritable one is ignored (the run then tunes again next time).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomically } from '../io/atomic_write';
import type { TuningTable } from './matmul_select';
import { parseTable, type TuningStore } from './tuning_store';

/** The default file: $XDG_CACHE_HOME/webgrad/tuning.json, else ~/.cache/webgrad/tuning.json. */
export function defaultTuningFile(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgrad', 'tuning.json');
}

export function fileTuningStore(file = defaultTuningFile()): TuningStore & { file: string } {
  const load = (): Record<string, unknown> => {
    try {
      const all = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return all && typeof all === 'object' && !Array.isArray(all) ? (all as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  };
  return {
    file,
    get: (key) => parseTable(load()[key]),
    set(key, table: TuningTable) {
      try {
        mkdirSync(dirname(file), { recursive: true });
        writeFileAtomically(file, new TextEncoder().encode(JSON.stringify({ ...load(), [key]: table }, null, 1)));
      } catch {
        // Unwritable: the tuner's in-memory choices still hold for this process.
      }
    },
  };
}
