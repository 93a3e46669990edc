/**
 * Where tuning tables persist between runs: a store the host hands the tuner (`tuneMatmuls(..., { store })`).
 * Library code never picks one itself, so it reads no environment variables and no localStorage; the
 * browser entry offers `localStorageTuningStore` (src/kernels/tuning_store_browser.ts), the Node entry
 * `fileTuningStore` (src/kernels/tuning_store_node.ts), tests `memoryTuningStore`.
 *
 * A store holds one table per adapter key (`tuningStoreKey`: the adapter's name and the tuner's version).
 * Entries it returns are advice: the tuner uses a stored id only where that variant is a candidate for the
 * product (so a stale or hand-edited store cannot select a kernel that does not fit).
 */
import type { TuningTable } from './matmul_select';

export interface TuningStore {
  get(adapterKey: string): TuningTable | undefined | Promise<TuningTable | undefined>;
  set(adapterKey: string, table: TuningTable): void | Promise<void>;
}

/** Bumped whenever the variants or their meaning change, so tables persisted by older code are ignored. */
export const TUNING_VERSION = 2;

export function tuningStoreKey(adapterName: string): string {
  return `v${TUNING_VERSION}|${adapterName}`;
}

/** A table read from storage, kept only if it is a plain object of strings (anything else: none). */
export function parseTable(value: unknown): TuningTable | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, id]) => typeof id === 'string');
  return Object.fromEntries(entries) as TuningTable;
}

/** Tables in memory only (tests, or a host that wants no persistence beyond the process). */
export function memoryTuningStore(initial: Record<string, TuningTable> = {}): TuningStore & { tables: Map<string, TuningTable> } {
  const tables = new Map(Object.entries(initial));
  return {
    tables,
    get: (key) => tables.get(key),
    set: (key, table) => void tables.set(key, { ...table }),
  };
}
