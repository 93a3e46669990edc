/** First-layer weights as images: one 28×28 tile per hidden unit, red for positive, blue for negative. */

const TILE = 28;
const GAP = 1;

/** RGBA for w in [-1, 1]: white at 0, red at +1, blue at -1. */
function colour(w: number): [number, number, number] {
  const t = Math.min(1, Math.abs(w));
  return w >= 0 ? [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t * 0.9))] : [Math.round(255 * (1 - t * 0.85)), Math.round(255 * (1 - t * 0.6)), 255];
}

/** Tiles per row for `count` tiles: 8 at most. */
export const columnsFor = (count: number) => Math.min(8, Math.max(1, count));

/**
 * Draws the first `count` rows of `weight` ([units, 784], row-major) into `canvas` as a grid; each tile is
 * scaled by its own largest |w|, so every unit's pattern is visible. Returns the number of tiles drawn.
 */
export function drawFirstLayer(canvas: HTMLCanvasElement, weight: Float32Array, units: number, inputs: number, count = 32): number {
  const side = Math.round(Math.sqrt(inputs));
  if (side * side !== inputs || side !== TILE) {
    canvas.width = canvas.height = 1;
    return 0;
  }
  const n = Math.min(count, units);
  const cols = columnsFor(n);
  const rows = Math.ceil(n / cols);
  canvas.width = cols * (TILE + GAP) - GAP;
  canvas.height = rows * (TILE + GAP) - GAP;
  const ctx = canvas.getContext('2d');
  if (!ctx) return 0;
  const image = ctx.createImageData(canvas.width, canvas.height);
  image.data.fill(255);
  for (let u = 0; u < n; u++) {
    const row = weight.subarray(u * inputs, (u + 1) * inputs);
    let max = 1e-12;
    for (let i = 0; i < inputs; i++) max = Math.max(max, Math.abs(row[i]));
    const ox = (u % cols) * (TILE + GAP);
    const oy = Math.floor(u / cols) * (TILE + GAP);
    for (let y = 0; y < TILE; y++) {
      for (let x = 0; x < TILE; x++) {
        const [r, g, b] = colour(row[y * TILE + x] / max);
        const p = 4 * ((oy + y) * canvas.width + ox + x);
        image.data[p] = r;
        image.data[p + 1] = g;
        image.data[p + 2] = b;
        image.data[p + 3] = 255;
      }
    }
  }
  ctx.putImageData(image, 0, 0);
  return n;
}
