// The lessons' transfer experiment (002, 004) on real MNIST, through `npm run train` flags only:
// pretrain an MLP on digits 0-4, then learn digits 5-9 from 500 labelled images with a new head, four
// ways, each with seeds 1, 2, 3:
//
//   scratch       the same network, freshly initialised, trained on the 500 images
//   frozen body   --weights --new-head --freeze 0-4 (feature extraction: only the head trains)
//   fine-tuning   --weights --new-head --lr 0.0005 (every layer trains, at half the rate of the others);
//                 also with the body at a tenth of the rate (--lr-mult 0-4:0.1), at the same rate, and with
//                 the rate warmed up over the first 100 steps (so the fresh head's first, large gradients
//                 do not wreck the pretrained features)
//   progressive   --weights --new-head --freeze 0-4 --unfreeze-every N (the head, then layer 3, then layer 1)
//
// Every run is Adam at lr 0.001 unless its mode says otherwise, 30 epochs, batch 50.
// The test accuracy is on all 4,861 test images of digits 5-9. Writes bench/results/DATE-transfer.json and
// prints a Markdown table for bench/RESULTS.md. Usage: npm run bench:transfer [-- --epochs 30 --unfreeze-every 10]
// (--pretrained FILE reuses a pretrained model, and --modes scratch/progressive runs some modes only).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const text = (name) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const option = (name, fallback) => (text(name) === undefined ? fallback : Number(text(name)));
const epochs = option('epochs', 30);
const unfreezeEvery = option('unfreeze-every', 10);
const pretrainEpochs = option('pretrain-epochs', 3);
const subset = option('subset', 500);
const seeds = [1, 2, 3];
const layers = '784-256-128-5';
const common = ['--layers', layers, '--optimizer', 'adam', '--batch-size', '50', '--json'];
const lr = ['--lr', '0.001'];

const dir = mkdtempSync(join(tmpdir(), 'webgrad-transfer-'));
const pretrained = text('pretrained') ?? join(dir, 'digits-0-4.safetensors');

/** Runs the CLI and returns its JSON lines. */
function train(flags) {
  const started = performance.now();
  const out = execFileSync(process.execPath, [join(root, 'dist', 'train.js'), ...common, ...flags], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  return { lines, final: lines.at(-1), seconds: (performance.now() - started) / 1000 };
}

let pre;
if (text('pretrained') && existsSync(pretrained)) {
  pre = train(['--classes', '0-4', '--weights', pretrained, '--epochs', '0']);
  console.error(`reusing ${pretrained}: test accuracy on 0-4 ${(100 * pre.final.testAccuracy).toFixed(2)}%`);
} else {
  console.error(`pretraining ${layers} on digits 0-4 for ${pretrainEpochs} epochs ...`);
  pre = train(['--classes', '0-4', '--epochs', String(pretrainEpochs), '--seed', '1', '--save', pretrained]);
  console.error(`  test accuracy on 0-4: ${(100 * pre.final.testAccuracy).toFixed(2)}% (${pre.seconds.toFixed(1)} s)`);
}

const transfer = ['--weights', pretrained, '--new-head'];
const modes = {
  scratch: [...lr],
  'frozen body': [...lr, ...transfer, '--freeze', '0-4'],
  'fine-tuning': ['--lr', '0.0005', ...transfer],
  'fine-tuning, body lr × 0.1': [...lr, ...transfer, '--lr-mult', '0-4:0.1'],
  'fine-tuning, same lr': [...lr, ...transfer],
  'fine-tuning, warm-up': ['--lr', '0.0005', '--warmup', '100', ...transfer],
  progressive: [...lr, ...transfer, '--freeze', '0-4', '--unfreeze-every', String(unfreezeEvery)],
};
const chosen = text('modes')?.split('/') ?? Object.keys(modes);
const results = {};
for (const [mode, flags] of Object.entries(modes).filter(([mode]) => chosen.includes(mode))) {
  results[mode] = seeds.map((seed) => {
    const run = train(['--classes', '5-9', '--subset', String(subset), '--epochs', String(epochs), '--seed', String(seed), ...flags]);
    console.error(`  ${mode}, seed ${seed}: ${(100 * run.final.testAccuracy).toFixed(2)}% (${run.seconds.toFixed(1)} s)`);
    return { seed, testAccuracy: run.final.testAccuracy, trainAccuracy: run.lines.at(-2).accuracy, seconds: run.seconds };
  });
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const pct = (x) => `${(100 * x).toFixed(2)}%`;
const rows = Object.entries(results).map(([mode, runs]) => ({ mode, mean: mean(runs.map((r) => r.testAccuracy)), runs }));
const record = {
  date: new Date().toISOString(),
  model: layers,
  pretraining: { classes: '0-4', epochs: pretrainEpochs, testAccuracy: pre.final.testAccuracy, seconds: pre.seconds },
  target: { classes: '5-9', trainingImages: subset, epochs, unfreezeEvery, optimizer: 'adam, lr 0.001 unless the mode says otherwise, batch 50' },
  rows,
};
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
const file = join(root, 'bench', 'results', `${record.date.slice(0, 10)}-transfer.json`);
writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
console.log(`| mode | test accuracy on 5-9 (mean of seeds ${seeds.join(', ')}) | per seed | seconds per run |`);
console.log('| --- | ---: | --- | ---: |');
for (const row of rows) console.log(`| ${row.mode} | **${pct(row.mean)}** | ${row.runs.map((r) => pct(r.testAccuracy)).join(', ')} | ${mean(row.runs.map((r) => r.seconds)).toFixed(1)} |`);
console.log(`\n(${file})`);
