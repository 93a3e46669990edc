/**
 * A float64 CPU reference of the on-GPU augmentation (shaders/gather_augment.wgsl), written from its
 * definition:
 *  - per batch row r, three draws from a counter-based hash of (seed, step, r): a rotation
 *    θ ∈ [−maxRotate, maxRotate] radians and a shift (dx, dy) ∈ [−maxShift, maxShift]² pixels;
 *  - the image is rotated by θ about its centre ((w − 1)/2, (h − 1)/2) — clockwise on screen for θ > 0,
 *    in image coordinates (x right, y down) the map p ↦ R(θ)·p with R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]
 *    — and then shifted by (dx, dy) (right and down);
 *  - each output pixel takes the source value at its inverse-mapped position, bilinearly interpolated
 *    between the four surrounding pixels, zero outside the image;
 *  - then x = value·scale + shift, plus Gaussian noise N(0, noiseStd²) per pixel (Box–Muller).
 * The draws replicate the shader's hash (pcgRef is the same PCG hash, in 32-bit integer arithmetic) so the
 * GPU's output can be compared element by element; everything else is float64.
 */
import { pcgRef } from './reference';

export interface AugmentSettings {
  width: number;
  height: number;
  /** Pixels, each axis. */
  maxShift: number;
  /** Radians, either way (the Params field is f32: pass the value as the kernel sees it). */
  maxRotate: number;
  noiseStd: number;
  scale: number;
  shift: number;
}

/** Uniform in [0, 1) from a key and a salt: the top 24 bits of a hash. */
export function uniform01Ref(key: number, salt: number): number {
  return (pcgRef((key ^ pcgRef(salt)) >>> 0) >>> 8) / 16777216;
}

/** The warp drawn for batch row r at (seed, step). */
export function warpOf(seed: number, step: number, r: number, s: Pick<AugmentSettings, 'maxShift' | 'maxRotate'>) {
  const key = pcgRef((seed ^ pcgRef((step ^ pcgRef(r)) >>> 0)) >>> 0);
  return {
    key,
    theta: (uniform01Ref(key, 1) * 2 - 1) * s.maxRotate,
    dx: (uniform01Ref(key, 2) * 2 - 1) * s.maxShift,
    dy: (uniform01Ref(key, 3) * 2 - 1) * s.maxShift,
  };
}

/** Bilinear sample of a [height, width] image at real coordinates (x, y); 0 outside. */
export function bilinearRef(image: ArrayLike<number>, width: number, height: number, x: number, y: number): number {
  const at = (px: number, py: number) => (px < 0 || py < 0 || px >= width || py >= height ? 0 : image[py * width + px]);
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  return (1 - fy) * ((1 - fx) * at(x0, y0) + fx * at(x0 + 1, y0)) + fy * ((1 - fx) * at(x0, y0 + 1) + fx * at(x0 + 1, y0 + 1));
}

/** The forward map of the warp: where source point (px, py) lands in the output. */
export function warpPoint(px: number, py: number, w: { theta: number; dx: number; dy: number }, s: Pick<AugmentSettings, 'width' | 'height'>): [number, number] {
  const [cx, cy] = [(s.width - 1) / 2, (s.height - 1) / 2];
  const [c, sn] = [Math.cos(w.theta), Math.sin(w.theta)];
  const [x, y] = [px - cx, py - cy];
  return [cx + c * x - sn * y + w.dx, cy + sn * x + c * y + w.dy];
}

/** One augmented sample (image bytes [height, width]) as batch row r: float64 values, before noise. */
export function augmentRowRef(image: ArrayLike<number>, r: number, seed: number, step: number, s: AugmentSettings): { values: Float64Array; warp: ReturnType<typeof warpOf> } {
  const warp = warpOf(seed, step, r, s);
  const [cx, cy] = [(s.width - 1) / 2, (s.height - 1) / 2];
  const [c, sn] = [Math.cos(warp.theta), Math.sin(warp.theta)];
  const values = new Float64Array(s.width * s.height);
  for (let oy = 0; oy < s.height; oy++) {
    for (let ox = 0; ox < s.width; ox++) {
      // Inverse map: undo the shift, then rotate by −θ about the centre.
      const [x, y] = [ox - cx - warp.dx, oy - cy - warp.dy];
      const [px, py] = [cx + c * x + sn * y, cy - sn * x + c * y];
      values[oy * s.width + ox] = bilinearRef(image, s.width, s.height, px, py) * s.scale + s.shift;
    }
  }
  return { values, warp };
}

/** The noise added to feature f of a row with hash key `key` (Box–Muller from two more draws). */
export function noiseRef(key: number, f: number, noiseStd: number): number {
  if (!(noiseStd > 0)) return 0;
  const pixelKey = pcgRef((key ^ pcgRef((f + 0x9e3779b9) >>> 0)) >>> 0);
  const u1 = Math.max(uniform01Ref(pixelKey, 4), 1e-7);
  const u2 = uniform01Ref(pixelKey, 5);
  return noiseStd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A whole augmented batch: rows taken from `perm` starting at `batchStart`, as the kernel gathers them. */
export function augmentBatchRef(images: ArrayLike<number>, perm: ArrayLike<number>, batchStart: number, rows: number, seed: number, step: number, s: AugmentSettings): Float64Array {
  const features = s.width * s.height;
  const out = new Float64Array(rows * features);
  for (let r = 0; r < rows; r++) {
    const sample = perm[batchStart + r];
    const image = Array.prototype.slice.call(images, sample * features, (sample + 1) * features) as number[];
    const { values, warp } = augmentRowRef(image, r, seed, step, s);
    for (let f = 0; f < features; f++) out[r * features + f] = values[f] + noiseRef(warp.key, f, s.noiseStd);
  }
  return out;
}
