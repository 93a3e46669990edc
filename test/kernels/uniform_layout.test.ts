/**
 * The TypeScript catalog (src/kernels/catalog.ts) and the WGSL sources describe the same interface twice:
 * binding order and kinds, and the layout of every uniform struct. Nothing at runtime checks the struct
 * fields (a uniform is just bytes), so a field added on one side only would silently shift every later
 * value. This test parses the WGSL and holds the two descriptions equal.
 */
import { describe, expect, it } from 'vitest';
import { kernels, optimizerHyperLayout, stepLayout } from '../../src/kernels/catalog';
import type { Kernel } from '../../src/kernels/kernel';
import { shaderFiles, type ShaderFile } from '../../src/kernels/shaders';
import type { UniformLayout } from '../../src/kernels/uniform';
import { testGpu } from '../helpers/gpu';

const stripComments = (source: string) => source.replace(/\/\/[^\n]*/g, '');

/** `struct Name { field: type, ... }` → [[field, type], ...], or undefined when the struct is absent. */
function parseStruct(source: string, name: string): [string, string][] | undefined {
  const match = new RegExp(`struct\\s+${name}\\s*\\{([^}]*)\\}`).exec(stripComments(source));
  if (!match) return undefined;
  return match[1]
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean)
    .map((f) => {
      const [field, type] = f.split(':').map((s) => s.trim());
      return [field, type];
    });
}

interface WgslBinding {
  group: number;
  binding: number;
  addressSpace: string;
  name: string;
  type: string;
}

function parseBindings(source: string): WgslBinding[] {
  const re = /@group\((\d+)\)\s*@binding\((\d+)\)\s*var\s*<([^>]*)>\s*(\w+)\s*:\s*([^;]+);/g;
  return [...stripComments(source).matchAll(re)].map((m) => ({
    group: Number(m[1]),
    binding: Number(m[2]),
    addressSpace: m[3].replace(/\s+/g, ''),
    name: m[4],
    type: m[5].trim(),
  }));
}

/** Brace-matched body of every `fn`, by name. */
function functionBodies(source: string): Map<string, string> {
  const code = stripComments(source);
  const bodies = new Map<string, string>();
  for (const m of code.matchAll(/\bfn\s+(\w+)\s*\(/g)) {
    const open = code.indexOf('{', m.index);
    let depth = 0;
    let end = open;
    for (; end < code.length; end++) {
      if (code[end] === '{') depth++;
      else if (code[end] === '}' && --depth === 0) break;
    }
    bodies.set(m[1], code.slice(m.index, end + 1));
  }
  return bodies;
}

/** Module-scope names an entry point uses: identifiers in it and in the functions it calls, minus its locals. */
function namesUsedBy(source: string, entryPoint: string): Set<string> {
  const bodies = functionBodies(source);
  const used = new Set<string>();
  const pending = [entryPoint];
  const seen = new Set<string>();
  while (pending.length) {
    const fn = pending.pop()!;
    if (seen.has(fn)) continue;
    seen.add(fn);
    const body = bodies.get(fn) ?? '';
    const locals = new Set([...body.matchAll(/\b(?:let|var|const)\s+(\w+)/g), ...body.matchAll(/[(,]\s*(?:@\w+\([^)]*\)\s*)?(\w+)\s*:/g)].map((m) => m[1]));
    // Identifiers, but not member names (gid.x, params.rows).
    for (const [id] of body.matchAll(/(?<![.\w])[A-Za-z_]\w*/g)) {
      if (bodies.has(id)) pending.push(id);
      else if (!locals.has(id)) used.add(id);
    }
  }
  return used;
}

/**
 * The bindings of one entry point. A module may hold several entry points, each declaring its own
 * variables, at the same binding numbers (batch_norm.wgsl, pool2d.wgsl) or past them (group_norm's
 * backward has 10 bindings, its forward 7). A declaration belongs to the entry point when the entry point
 * uses it, or when no entry point does (e.g. a Params uniform a kernel happens not to read). A declaration
 * only another entry point uses still fills a gap below the highest binding this one has: its pipeline
 * layout has a slot there (the activation forward pass binds a dummy in place of the backward pass's y).
 */
function entryBindings(source: string, entryPoint: string): WgslBinding[] {
  const all = parseBindings(source);
  const entryPoints = [...stripComments(source).matchAll(/@compute[^{]*?\bfn\s+(\w+)/g)].map((m) => m[1]);
  expect(entryPoints).toContain(entryPoint);
  const usedBy = new Map(entryPoints.map((e) => [e, namesUsedBy(source, e)]));
  const used = usedBy.get(entryPoint)!;
  const usedByAny = (name: string) => [...usedBy.values()].some((names) => names.has(name));
  const numbers = [...new Set(all.map((b) => b.binding))].sort((a, b) => a - b);
  const chosen = new Map<number, WgslBinding>();
  for (const n of numbers) {
    const candidates = all.filter((b) => b.binding === n);
    const mine = candidates.filter((b) => used.has(b.name) || !usedByAny(b.name));
    expect(mine.length, `${entryPoint}: ${mine.map((b) => b.name)} at binding ${n}`).toBeLessThanOrEqual(1);
    if (mine.length) chosen.set(n, mine[0]);
  }
  const highest = Math.max(-1, ...chosen.keys());
  for (const n of numbers) {
    const candidates = all.filter((b) => b.binding === n);
    if (!chosen.has(n) && n < highest && candidates.length === 1) chosen.set(n, candidates[0]);
  }
  return [...chosen.entries()].sort(([a], [b]) => a - b).map(([, b]) => b);
}

const kindOf = (addressSpace: string) =>
  ({ 'storage,read': 'read', 'storage,read_write': 'write', uniform: 'uniform' })[addressSpace] ?? `unknown (${addressSpace})`;

const moduleSource = (kernel: Kernel) => kernel.files.map((f) => shaderFiles[f]).join('\n');
const fieldsOf = (layout: UniformLayout) => layout.fields.map(([name, type]) => [name, type]);

/** Layouts of the uniform structs shared between kernels, by WGSL struct name. */
const sharedStructs: Record<string, UniformLayout> = { Step: stepLayout, Hyper: optimizerHyperLayout };

describe('catalog ↔ WGSL interface', () => {
  for (const [key, kernel] of Object.entries(kernels) as [string, Kernel][]) {
    describe(key, () => {
      const source = moduleSource(kernel);

      it('struct Params fields and types equal kernel.params, in order', () => {
        expect(parseStruct(source, 'Params')).toEqual(fieldsOf(kernel.params));
        // Uniform buffers are bound with layout.byteSize bytes: at least the struct, in 16-byte units.
        expect(kernel.params.byteSize % 16).toBe(0);
        expect(kernel.params.byteSize).toBeGreaterThanOrEqual(4 * kernel.params.fields.length);
      });

      it('bindings: count, order, kinds; the last one is the Params uniform', () => {
        const bindings = entryBindings(source, kernel.entryPoint);
        expect(bindings.map((b) => b.group)).toEqual(bindings.map(() => 0));
        expect(bindings.map((b) => b.binding)).toEqual(kernel.bindings.map((_, i) => i));
        expect(bindings.map((b) => kindOf(b.addressSpace))).toEqual([...kernel.bindings]);
        expect(bindings.at(-1)).toMatchObject({ addressSpace: 'uniform', type: 'Params' });
        // Every other uniform is a shared struct whose layout the catalog also describes.
        for (const b of bindings.slice(0, -1).filter((b) => b.addressSpace === 'uniform')) {
          expect(Object.keys(sharedStructs), `uniform '${b.name}: ${b.type}'`).toContain(b.type);
        }
      });

      it(`has the @compute entry point '${kernel.entryPoint}'`, () => {
        expect(stripComments(source)).toMatch(new RegExp(`@compute[^;{]*fn\\s+${kernel.entryPoint}\\s*\\(`));
      });
    });
  }

  for (const [structName, layout] of Object.entries(sharedStructs)) {
    const files = (Object.keys(shaderFiles) as ShaderFile[]).filter((f) => parseStruct(shaderFiles[f], structName));
    it(`struct ${structName} equals its catalog layout in every shader that declares it (${files.join(', ')})`, () => {
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(parseStruct(shaderFiles[file], structName), file).toEqual(fieldsOf(layout));
      expect(layout.byteSize % 16).toBe(0);
    });
  }

  it('struct Step is declared in gather.wgsl and optimizer.wgsl, and struct Hyper in optimizer.wgsl', () => {
    expect(parseStruct(shaderFiles['gather.wgsl'], 'Step')).toEqual(fieldsOf(stepLayout));
    expect(parseStruct(shaderFiles['optimizer.wgsl'], 'Step')).toEqual(fieldsOf(stepLayout));
    expect(parseStruct(shaderFiles['optimizer.wgsl'], 'Hyper')).toEqual(fieldsOf(optimizerHyperLayout));
  });

  it('the parser itself: finds fields across comments and trailing commas', () => {
    const wgsl = 'struct Params {\n  a: u32, // first\n  b: f32,   // second, with: colon\n}\n@group(0) @binding(0) var<storage, read_write> x: array<f32>;';
    expect(parseStruct(wgsl, 'Params')).toEqual([['a', 'u32'], ['b', 'f32']]);
    expect(parseBindings(wgsl)).toEqual([{ group: 0, binding: 0, addressSpace: 'storage,read_write', name: 'x', type: 'array<f32>' }]);
  });

  it('the parser itself: per-entry-point bindings, helper calls followed, locals ignored', () => {
    const wgsl = `
      @group(0) @binding(2) var<uniform> params: Params;
      @group(0) @binding(0) var<storage, read> a: array<f32>;
      @group(0) @binding(1) var<storage, read_write> b: array<f32>;
      @compute @workgroup_size(1) fn first(@builtin(global_invocation_id) gid: vec3u) { b[0] = helper(); }
      fn helper() -> f32 { return a[params.n]; }
      @group(0) @binding(0) var<storage, read> c: array<f32>;
      @group(0) @binding(1) var<storage, read_write> d: array<f32>;
      @compute @workgroup_size(1) fn second() { let a = 1.0; d[0] = c[0] * a + f32(params.n); }`;
    expect(entryBindings(wgsl, 'first').map((b) => b.name)).toEqual(['a', 'b', 'params']);
    expect(entryBindings(wgsl, 'second').map((b) => b.name)).toEqual(['c', 'd', 'params']);
  });
});

describe('every kernel compiles', () => {
  for (const [key, kernel] of Object.entries(kernels) as [string, Kernel][]) {
    it(`${key} (default override constants)`, async () => {
      const { gpu, resources } = await testGpu();
      await expect(resources.pipeline(kernel, {})).resolves.toBeDefined();
      gpu.check();
    });
  }
});
