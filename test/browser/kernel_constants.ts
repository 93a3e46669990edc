/**
 * A representative set of override constants for every kernel of the catalog, for compiling each kernel in
 * each browser's WGSL compiler (Tint in Chromium, naga in Firefox). Overrides are substituted when the
 * pipeline is created, so some constructs (an array sized by an override, a switch folded on a constant)
 * only fail for some values; the set covers:
 *  - the defaults (no constants);
 *  - each override on its own at each value the engine sets (booleans flipped, every optimizer kernel;
 *    every activation kind on the activation kernels and the reference matmul, two kinds elsewhere, since
 *    all of them share act_fns.wgsl);
 *  - for the matmul family, every variant's own constants (workgroup size, extras) in its forward and
 *    weight-gradient transpositions (all four on the reference), once more with the bias and activation
 *    epilogue and once with the activation-gradient epilogue.
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

/**
 * Kernels that sweep every activation kind. The kinds live in act_fns.wgsl, which every kernel with an
 * epilogue includes unchanged, so elsewhere two kinds stand for them (SELU: a select on the sign; GELU: its
 * derivative reads the input x, not y). Each pipeline costs ~0.7 s on SwiftShader, in each browser.
 */
const EVERY_KIND = new Set<KernelName>(['activationForward', 'activationBackward', REFERENCE_MATMUL.kernel]);
const SOME_KINDS = [activationKinds.selu, activationKinds.gelu];

/** The values the engine gives an override; WORKGROUP_SIZE and other tuning knobs keep their defaults. */
function valuesOf(o: Override, kernel: KernelName): (number | boolean)[] {
  if (o.type === 'bool') return [true, false];
  if (o.name === 'ACT' || o.name === 'ACT_GRAD') return EVERY_KIND.has(kernel) ? ACTIVATIONS : SOME_KINDS;
  if (o.name === 'OPTIMIZER') return OPTIMIZER_KERNELS;
  if (o.name === 'KIND') return LOSS_KINDS;
  return [];
}

const keyOf = (c: Constants) => Object.keys(c).sort().map((k) => `${k}=${Number(c[k])}`).join(',');

export function compileCases(full = process.env.WEBGRAD_FULL_TESTS === '1'): CompileCase[] {
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
      for (const o of overrides) for (const v of valuesOf(o, name)) add({ [o.name]: v });
    }
    for (const variant of variants) {
      const plain = { BIAS: false, ACT: 0, ACT_GRAD: 0 };
      // A non-reference variant's transposes and epilogues are branches of one module, which the browser
      // validates whole in any one of its forms: every run compiles one form (the forward pass's A·Bᵀ with
      // bias and an activation); WEBGRAD_FULL_TESTS=1 compiles the other forms too.
      if (variant !== REFERENCE_MATMUL && !full) {
        add(variantConstants(variant, { TRANS_A: false, TRANS_B: true, ...plain, BIAS: true, ACT: activationKinds.selu }));
        continue;
      }
      // Every transposition on the reference; elsewhere the forward (A·Bᵀ) and weight-gradient (Aᵀ·B) forms:
      // TRANS_A and TRANS_B pick branches of one module, which each browser validates whole either way.
      const transposes = variant === REFERENCE_MATMUL ? [[false, false], [false, true], [true, false], [true, true]] : [[false, true], [true, false]];
      for (const [TRANS_A, TRANS_B] of transposes) add(variantConstants(variant, { TRANS_A, TRANS_B, ...plain }));
      add(variantConstants(variant, { TRANS_A: false, TRANS_B: true, ...plain, BIAS: true, ACT: activationKinds.selu }));
      add(variantConstants(variant, { TRANS_A: false, TRANS_B: false, ...plain, ACT_GRAD: activationKinds.elu }));
    }
  }
  return cases;
}
