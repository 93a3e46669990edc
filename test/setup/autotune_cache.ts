/**
 * Vitest global setup: the test run gets its own, empty cache folder (XDG_CACHE_HOME), so the CLI's
 * tuning store (src/kernels/tuning_store_node.ts, $XDG_CACHE_HOME/webgrad/tuning.json) starts empty —
 * every run really tunes each matmul shape once, whatever the user's cache holds — and never writes to the
 * user's cache. The library itself keeps no persistent cache unless given a store. Test files run in
 * workers started after this, which inherit the variable. The browser tests start browsers with fresh
 * profiles, so their localStorage is empty too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'webgrad-cache-'));
  process.env.XDG_CACHE_HOME = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
