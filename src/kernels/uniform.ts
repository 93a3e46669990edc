/**
 * Uniform layouts, described once in TypeScript and checked against the WGSL `struct` they mirror
 * (test/kernels/uniform_layout.test.ts parses every shader's structs). Only 4-byte scalars are allowed, so
 * a field's byte offset is simply 4 × its index and nothing is hand-counted.
 */
export type ScalarType = 'u32' | 'i32' | 'f32';

export class UniformLayout<F extends string = string> {
  readonly byteSize: number;

  constructor(
    readonly structName: string,
    readonly fields: readonly (readonly [F, ScalarType])[],
  ) {
    // Uniform structs are sized up to a multiple of 16 bytes.
    this.byteSize = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  }

  pack(values: Record<F, number>, target = new ArrayBuffer(this.byteSize), byteOffset = 0): ArrayBuffer {
    const view = new DataView(target, byteOffset, this.byteSize);
    this.fields.forEach(([name, type], i) => {
      const value = values[name];
      if (value === undefined) throw new Error(`${this.structName}.${name} has no value`);
      if (type === 'f32') view.setFloat32(i * 4, value, true);
      else if (type === 'u32') view.setUint32(i * 4, value >>> 0, true);
      else view.setInt32(i * 4, value | 0, true);
    });
    return target;
  }
}
