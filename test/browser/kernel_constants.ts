/**
 * A representative set of override constants for every kernel of the catalog, for compiling each kernel in
 * each browser's WGSL compiler (Tint in Chromium, naga in Firefox). Overrides are substituted when the
 * pipeline is created, so some constructs (an array sized by an override, a switch folded on a constant)
 * only fail for some values; the set covers:
 *  - the defaults (no constants);
 *  - each override on its own at each value the engine sets (booleans flipped, every activation kind,
 *    every optimizer kernel);
 *  - for the matmul family, every variant's own constants (workgroup size, extras) with each transposition,
 *    once more with the bias and activation epilogue and once with the activation-gradient epilogue; the
 *    epilogue's every activation kind on the reference kernel alone (all variants share act_fns.wgsl).
 * The overrides are read from the .wgsl files themselves, so a new one is swept without editing this file.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { kernels, type KernelName } from '../../src/kernels/catalog';
import type { Constants } from '../../src/kernels/kernel';
import { matmulVariants, REFERENCE_MATMUL, variantConstants } from '../../src/kernels/matmul_variants';
import { activationKinds } from '../../src/graph/ops';
import { lossKinds } from '../../src/train/loss';
import { repoRoot } from './serve';

export interface CompileCase {
  kernel: KernelName;
  constants: Constants;
}

interface Override {
  name: string;
  type: string;
  initial?: string;
}

/** `override NAME: type = value;` declarations, in source order. */
export function overridesIn(source: string): Override[] {
  const found: Override[] = [];
  for (const m of source.matchAll(/^\s*override\s+(\w+)\s*:\s*(\w+)\s*(?:=\s*([^;]+))?;/gm)) {
    found.push({ name: m[1], type: m[2], initial: m[3]?.trim() });
  }
  return found;
}

const ACTIVATIONS = Object.values(activationKinds);
/** OPTIMIZER in optimizer.wgsl: 0 SGD (plain, momentum, Nesterov), 1 Adagrad, 2 RMSprop, 3 Adam(W). */
const OPTIMIZER_KERNELS = [0, 1, 2, 3];
/** KIND in loss.wgsl: 0 cross-entropy, 1 BCE, 2 MSE, 3 L1, 4 Huber / smooth L1. */
const LOSS_KINDS = [...new Set(Object.values(lossKinds))];

/** The values the engine gives an override; WORKGROUP_SIZE and other tuning knobs keep their defaults. */
function valuesOf(o: Override): (number | boolean)[] {
  if (o.type === 'bool') return [true, false];
  if (o.name === 'ACT' || o.name === 'ACT_GRAD') return ACTIVATIONS;
  if (o.name === 'OPTIMIZER') return OPTIMIZER_KERNELS;
  if (o.name === 'KIND') return LOSS_KINDS;
  return [];
}

const keyOf = (c: Constants) => Object.keys(c).sort().map((k) => `${k}=${Number(c[k])}`).join(',');

export function compileCases(): CompileCase[] {
  const cases: CompileCase[] = [];
  for (const name of Object.keys(kernels) as KernelName[]) {
    const kernel = kernels[name];
    const overrides = kernel.files.flatMap((f) => overridesIn(readFileSync(path.join(repoRoot, 'shaders', f), 'utf8')));
    const seen = new Set<string>();
    const add = (constants: Constants) => {
      const key = keyOf(constants);
      if (seen.has(key)) return;
      seen.add(key);
      cases.push({ kernel: name, constants });
    };
    add({});
    const variants = matmulVariants.filter((v) => v.kernel === name);
    // The matmul variants share one epilogue (act_fns.wgsl): its every kind is swept on the reference only.
    if (variants.length === 0 || variants.includes(REFERENCE_MATMUL)) {
      for (const o of overrides) for (const v of valuesOf(o)) add({ [o.name]: v });
    }
    for (const variant of variants) {
      const plain = { BIAS: false, ACT: 0, ACT_GRAD: 0 };
      for (const [TRANS_A, TRANS_B] of [[false, false], [false, true], [true, false], [true, true]]) add(variantConstants(variant, { TRANS_A, TRANS_B, ...plain }));
      add(variantConstants(variant, { TRANS_A: false, TRANS_B: true, ...plain, BIAS: true, ACT: activationKinds.selu }));
      add(variantConstants(variant, { TRANS_A: false, TRANS_B: false, ...plain, ACT_GRAD: activationKinds.elu }));
    }
  }
  return cases;
}
