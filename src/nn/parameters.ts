/**
 * The parameter arena: every parameter is a slice of one GPU buffer (and its gradient the same slice of
 * another), so the optimizer updates all of them in one dispatch, the global gradient norm is one
 * reduction, and a checkpoint is one copy. Slices start on 256-byte boundaries, the storage-binding
 * offset alignment WebGPU guarantees. Decayed parameters (weights) come first, so the optimizer excludes
 * biases and norm parameters with a single bound, `decayFloats`, instead of a mask.
 */
export interface ParameterSpec {
  name: string;
  shape: number[];
  /** Weight decay applies (weights: yes; biases and norm scales/shifts: no). */
  decay: boolean;
}

export interface ParameterSlot extends ParameterSpec {
  /** Offset in floats from the start of the arena. */
  offset: number;
  size: number;
}

const ALIGN_FLOATS = 64; // 256 bytes

export class ParameterArena {
  readonly slots: ParameterSlot[] = [];
  readonly byName = new Map<string, ParameterSlot>();
  readonly totalFloats: number;
  /** Every float below this offset belongs to a decayed parameter (or alignment padding). */
  readonly decayFloats: number;

  constructor(specs: readonly ParameterSpec[]) {
    const ordered = [...specs.filter((s) => s.decay), ...specs.filter((s) => !s.decay)];
    let offset = 0;
    let decayEnd = 0;
    for (const spec of ordered) {
      if (this.byName.has(spec.name)) throw new Error(`Parameter '${spec.name}' is declared twice.`);
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const slot = { ...spec, shape: [...spec.shape], offset, size };
      this.slots.push(slot);
      this.byName.set(spec.name, slot);
      offset += Math.ceil(size / ALIGN_FLOATS) * ALIGN_FLOATS;
      if (spec.decay) decayEnd = offset;
    }
    this.totalFloats = Math.max(offset, ALIGN_FLOATS);
    this.decayFloats = decayEnd;
  }

  slot(name: string): ParameterSlot {
    const slot = this.byName.get(name);
    if (!slot) throw new Error(`No parameter named '${name}' in the arena (have: ${[...this.byName.keys()].join(', ')}).`);
    return slot;
  }
}
