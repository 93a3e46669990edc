/**
 * A kernel is the TypeScript face of one WGSL entry point: which files make up its module, the kind of
 * each binding (in binding order), and the layout of its Params uniform. Pipelines and bind-group layouts
 * are derived from this record and nothing else, so the cache key covers everything that shapes a pipeline.
 */
import type { ShaderFile } from './shaders';
import type { UniformLayout } from './uniform';

/** `read` = read-only storage, `write` = read_write storage, `uniform` = a uniform buffer. */
export type BindingKind = 'read' | 'write' | 'uniform';

export interface Kernel {
  name: string;
  /** Concatenated in order; helpers such as act_fns.wgsl come first. */
  files: readonly ShaderFile[];
  entryPoint: string;
  bindings: readonly BindingKind[];
  params: UniformLayout;
}

export type Constants = Record<string, number | boolean>;

/** Workgroup counts for n invocations in a 1-D kernel, folded into 2-D past the 65,535 limit. */
export function grid1d(invocations: number, workgroupSize: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(invocations / workgroupSize));
  if (groups <= 65535) return [groups, 1, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y, 1];
}
