/**
 * Browsers: tuning tables in localStorage, one JSON entry per adapter key. Quota errors and disabled
 * storage (private browsing) are ignored: the run then just tunes again next time.
 */
import type { TuningTable } from './matmul_select';
import { parseTable, type TuningStore } from './tuning_store';

export function localStorageTuningStore(storage: Storage | undefined = (globalThis as { localStorage?: Storage }).localStorage, prefix = 'webgrad.tuning.'): TuningStore | undefined {
  if (!storage) return undefined;
  return {
    get(key) {
      try {
        const text = storage.getItem(prefix + key);
        return text ? parseTable(JSON.parse(text)) : undefined;
      } catch {
        return undefined;
      }
    },
    set(key, table: TuningTable) {
      try {
        storage.setItem(prefix + key, JSON.stringify(table));
      } catch {
        // Quota or privacy mode: the tuner's in-memory choices still hold for this page.
      }
    },
  };
}
