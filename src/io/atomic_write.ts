/** Node only: writes a file beside its target and renames it over, so a crash never leaves half a file. */
import { renameSync, writeFileSync } from 'node:fs';

export function writeFileAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, bytes);
  // rename(2) replaces the target in one step: readers see the old file or the new one, never a mix.
  renameSync(temporary, path);
}
