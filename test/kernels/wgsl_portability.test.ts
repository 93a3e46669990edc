/**
 * WGSL that every browser's compiler takes (Tint in Chromium, naga in Firefox, WebKit's WGSL compiler in
 * Safari), checked on the source of every shaders/*.wgsl, without a GPU. The browsers themselves compile
 * every kernel in test/browser/train_in_browser.test.ts; these rules cover what no browser here can test:
 *  - workgroup arrays are sized by `const` expressions: WebKit rejects arrays sized by an override;
 *  - arrays in a function are `var`: indexing a `let` array with a loop variable was rejected by naga
 *    (Firefox) releases before 2025, and WebKit copies a `let` array on every dynamic access;
 *  - no `enable` directive: f16 and subgroups are optional features the engine does not request.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { matmulVariants } from '../../src/kernels/matmul_variants';

const shaderDir = path.resolve(__dirname, '../../shaders');
const files = readdirSync(shaderDir).filter((f) => f.endsWith('.wgsl')).sort();
const withoutComments = (source: string) => source.replace(/\/\/.*$/gm, '');

/** Every place in `source` that breaks one of the rules above, as "line N: what". */
export function portabilityProblems(source: string): string[] {
  const code = withoutComments(source);
  const lineOf = (index: number) => code.slice(0, index).split('\n').length;
  const overrides = new Set([...code.matchAll(/^\s*override\s+(\w+)/gm)].map((m) => m[1]));
  const problems: string[] = [];
  for (const m of code.matchAll(/var<workgroup>\s+(\w+)\s*:\s*array<\s*[\w<>]+\s*,([^;]+)>\s*;/g)) {
    const sizedBy = [...m[2].matchAll(/[A-Za-z_]\w*/g)].map((t) => t[0]).filter((t) => overrides.has(t));
    if (sizedBy.length) problems.push(`line ${lineOf(m.index)}: workgroup array '${m[1]}' is sized by override ${sizedBy.join(', ')}; size it with a const`);
  }
  for (const m of code.matchAll(/\blet\s+(\w+)\s*(?::\s*array<[^=]*)?=\s*array\b/g)) {
    problems.push(`line ${lineOf(m.index)}: '${m[1]}' is a let array; declare it var`);
  }
  for (const m of code.matchAll(/^\s*enable\s+([\w, ]+);/gm)) problems.push(`line ${lineOf(m.index)}: 'enable ${m[1]}' needs an optional feature`);
  return problems;
}

describe('WGSL portability rules', () => {
  it.each(files)('%s follows them', (file) => {
    expect(portabilityProblems(readFileSync(path.join(shaderDir, file), 'utf8'))).toEqual([]);
  });

  it('the checker finds each kind of problem (so a pass above means something)', () => {
    const bad = [
      'override WG: u32 = 8u;',
      'const T: u32 = 16u;',
      'var<workgroup> tile: array<f32, 4u * WG * T>;',
      'var<workgroup> fine: array<f32, 4u * T>;',
      'fn f(i: u32) -> f32 { let acc = array<f32, 2>(1.0, 2.0); return acc[i]; }',
      'enable f16;',
    ].join('\n');
    const problems = portabilityProblems(bad);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/line 3: workgroup array 'tile' is sized by override WG/);
    expect(problems[1]).toMatch(/line 5: 'acc' is a let array/);
    expect(problems[2]).toMatch(/line 6: 'enable f16'/);
  });

  it("matmul_tiled's constant-sized tiles are sized for the one workgroup shape its variants use", () => {
    const source = readFileSync(path.join(shaderDir, 'matmul_tiled.wgsl'), 'utf8');
    const threads = Number(/const\s+THREADS\s*:\s*u32\s*=\s*(\d+)u\s*;/.exec(source)?.[1]);
    expect(threads, 'const THREADS in matmul_tiled.wgsl').toBeGreaterThan(0);
    const tiled = matmulVariants.filter((v) => v.kernel === 'matmulTiled');
    expect(tiled.length).toBeGreaterThan(0);
    for (const v of tiled) expect(v.workgroup[0] * v.workgroup[1], `${v.id}: its workgroup must have THREADS = ${threads} invocations`).toBe(threads);
  });
});
