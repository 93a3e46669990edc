/**
 * CLI test helpers: run a command's `main(argv, io)` in-process with a recording io, and run the built
 * scripts (`dist/*.js`) as real processes, building first when dist is older than src/ or shaders/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, type Command } from '../../src/cli/run';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  status: number;
  out: string[];
  err: string[];
}

/** Runs `main` as the entry point would, collecting what it prints. */
export async function runInProcess(command: string, main: Command, argv: readonly string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runCommand(command, main, argv, { out: (t) => out.push(...t.split('\n')), err: (t) => err.push(...t.split('\n')) });
  return { status, out, err };
}

/** A V8 stack frame: "at fn (file:line:col)" or "at file:line:col". */
export const STACK_FRAME = /at .*:\d+:\d+/;

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

let built = false;

/** Builds dist/ unless every script there is newer than every file in src/ and shaders/. */
export function ensureBuilt(): void {
  if (built) return;
  const sources = Math.max(newest(join(ROOT, 'src')), newest(join(ROOT, 'shaders')));
  const scripts = ['train.js', 'search.js', 'init_experiment.js', 'index.js'].map((name) => {
    try {
      return statSync(join(ROOT, 'dist', name)).mtimeMs;
    } catch {
      return 0;
    }
  });
  if (Math.min(...scripts) < sources) execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'pipe' });
  built = true;
}

/** Runs `node dist/<script> ...args` and returns its exit status and output lines. */
export function runBuilt(script: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult & { stderr: string; stdout: string } {
  ensureBuilt();
  const result = spawnSync(process.execPath, [join(ROOT, 'dist', script), ...args], {
    cwd: ROOT,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
  });
  if (result.error) throw result.error;
  const lines = (text: string) => text.split('\n').filter((line) => line.length > 0);
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, out: lines(result.stdout), err: lines(result.stderr) };
}

export function temporaryFolder(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `webgrad-${prefix}-`));
}
