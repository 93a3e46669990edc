/**
 * Vitest global setup: the test run gets its own, empty autotune cache (src/kernels/autotune.ts reads
 * WEBGRAD_AUTOTUNE_CACHE), so every run really tunes each matmul shape once — whatever the user's
 * ~/.cache/webgrad/autotune.json holds — and never writes to the user's cache. Test files run in
 * workers started after this, which inherit the variable. The browser tests start Chrome with a fresh
 * profile (test/browser/serve.ts), so its localStorage cache is empty too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'webgrad-autotune-'));
  process.env.WEBGRAD_AUTOTUNE_CACHE = path.join(dir, 'autotune.json');
  return () => rmSync(dir, { recursive: true, force: true });
}
