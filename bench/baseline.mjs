/**
 * `--baseline=REF`: the engine at another commit (by default the previous one), built into a directory of
 * its own, so that one bench run times this commit and that one side by side, in the same page on the same
 * adapter under the same load. The repository is only read (`git archive`); the build borrows this
 * checkout's node_modules.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Builds REF's dist/ (vite only: the bench needs no declarations); returns its commit and the dist path. */
export function prepareBaseline(repoRoot, ref) {
  const git = (...args) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  let commit;
  try {
    commit = git('rev-parse', '--short', `${ref}^{commit}`);
  } catch {
    throw new Error(`--baseline=${ref}: not a commit of this repository.`);
  }
  const dir = path.join(os.tmpdir(), `webgrad-baseline-${commit}`);
  const dist = path.join(dir, 'dist');
  if (!existsSync(path.join(dist, 'internals.js'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C '${dir}'`], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return { commit, dist };
}
