/** Node only: writes a file beside its target and renames it over, so a crash never leaves half a file. */
import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * The temporary file is named for this process: two processes saving to the same path at once (two runs
 * sharing the tuning cache, say) each rename a whole file of their own, and the last one wins. Within a
 * process the write is synchronous, so one name per process is enough.
 */
export function temporaryPathFor(path: string): string {
  return `${path}.${process.pid}.tmp`;
}

export function writeFileAtomically(path: string, bytes: Uint8Array): void {
  const temporary = temporaryPathFor(path);
  try {
    writeFileSync(temporary, bytes);
    // rename(2) replaces the target in one step: readers see the old file or the new one, never a mix.
    renameSync(temporary, path);
  } catch (error) {
    // A half-written temporary file is removed; the error that stopped the write is the one reported.
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Not a file of ours (a folder in the way, say): leave it.
    }
    throw error;
  }
}
