/**
 * First-layer weights as images, red for positive and blue for negative: a Linear layer on the 28×28
 * pixels gives one 28×28 tile per output unit (its row of the [out, 784] weight), a Conv2d gives one tile
 * per kernel ([out, in, kh, kw]: kh×kw, upscaled so a 5×5 kernel is as easy to see as a 28×28 row).
 *
 * The layer is found by name: the first Linear or Conv2d in the worker's layer summary (Model.summary(),
 * one line per layer starting with its state-dict path and type), whose weight is '<path>.weight'.
 * Everything but the drawing is pure, so Node tests check it on real summaries.
 */

const TILE = 28;
const GAP = 1;

/** The first layer with weights worth drawing: its state-dict path ('1', '0', '4.body.0') and type. */
export interface FirstLayer {
  path: string;
  type: 'Linear' | 'Conv2d';
  /** Its weight's state-dict name, '<path>.weight'. */
  weight: string;
}

/** From the summary lines ("1          Linear          → [128]  100480 parameters"): the first Linear or Conv2d. */
export function firstWeightLayer(summary: readonly string[]): FirstLayer | undefined {
  for (const line of summary) {
    const match = /^\s*(\S+)\s+(\S+)\s+→/.exec(line);
    if (match && (match[2] === 'Linear' || match[2] === 'Conv2d')) return { path: match[1], type: match[2], weight: `${match[1]}.weight` };
  }
  return undefined;
}

/** Tiles to draw: `count` images of height×width values, each shown `scale` times larger. */
export interface WeightTiles {
  count: number;
  height: number;
  width: number;
  scale: number;
  /** What one tile is, for the note under the canvas: "unit", "kernel". */
  unit: string;
  tile(index: number): Float32Array;
}

/**
 * The tiles of a first layer's weight, or a sentence saying why there are none (a Linear whose inputs are
 * not 28×28 pixels, a shape that does not fit the layer type).
 */
export function weightTiles(type: FirstLayer['type'], shape: readonly number[], data: Float32Array): WeightTiles | string {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) return `its weight has ${data.length} values, not the ${size} of shape [${shape.join(', ')}]`;
  if (type === 'Linear') {
    const [units, inputs] = shape;
    if (shape.length !== 2 || inputs !== TILE * TILE) return `the first Linear takes ${inputs} inputs, not the 28×28 pixels`;
    return { count: units, height: TILE, width: TILE, scale: 1, unit: 'unit', tile: (i) => data.subarray(i * inputs, (i + 1) * inputs) };
  }
  if (shape.length !== 4) return `a Conv2d weight is [out, in, kh, kw]; this one is [${shape.join(', ')}]`;
  const [out, channels, kh, kw] = shape;
  const area = kh * kw;
  return { count: out * channels, height: kh, width: kw, scale: Math.max(1, Math.floor(TILE / Math.max(kh, kw))), unit: 'kernel', tile: (i) => data.subarray(i * area, (i + 1) * area) };
}

/** RGB for w in [-1, 1]: white at 0, red at +1, blue at -1. */
function colour(w: number): [number, number, number] {
  const t = Math.min(1, Math.abs(w));
  return w >= 0 ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t * 0.9))] : [Math.round(255 * (1 - t * 0.85)), Math.round(255 * (1 - t * 0.6)), 255];
}

/** Tiles per row for `count` tiles: 8 at most. */
export const columnsFor = (count: number) => Math.min(8, Math.max(1, count));

/**
 * Draws the first `max` tiles into `canvas` as a grid; each tile is scaled by its own largest |w|, so
 * every unit's pattern is visible. Returns the number of tiles drawn.
 */
export function drawTiles(canvas: HTMLCanvasElement, tiles: WeightTiles | undefined, max = 32): number {
  const n = tiles ? Math.min(max, tiles.count) : 0;
  if (!tiles || n === 0) {
    canvas.width = canvas.height = 1;
    return 0;
  }
  const th = tiles.height * tiles.scale;
  const tw = tiles.width * tiles.scale;
  const cols = columnsFor(n);
  canvas.width = cols * (tw + GAP) - GAP;
  canvas.height = Math.ceil(n / cols) * (th + GAP) - GAP;
  const ctx = canvas.getContext('2d');
  if (!ctx) return 0;
  const image = ctx.createImageData(canvas.width, canvas.height);
  image.data.fill(255);
  for (let u = 0; u < n; u++) {
    const values = tiles.tile(u);
    let largest = 1e-12;
    for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i]));
    const ox = (u % cols) * (tw + GAP);
    const oy = Math.floor(u / cols) * (th + GAP);
    for (let y = 0; y < th; y++) {
      for (let x = 0; x < tw; x++) {
        const [r, g, b] = colour(values[Math.floor(y / tiles.scale) * tiles.width + Math.floor(x / tiles.scale)] / largest);
        const p = 4 * ((oy + y) * canvas.width + ox + x);
        image.data[p] = r;
        image.data[p + 1] = g;
        image.data[p + 2] = b;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  return n;
}
