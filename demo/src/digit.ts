/**
 * A drawn digit → a 28×28 MNIST-style image, the way MNIST itself was made: the ink's bounding box is
 * scaled (area-averaged, aspect ratio kept) to fit a 20×20 box, and that box is placed in the 28×28
 * field so that the ink's centre of mass sits at the centre. Pure functions on arrays, so Node tests
 * can check them without a canvas.
 */

export const MNIST_SIZE = 28;
const BOX = 20;
/** Pixels at or below this intensity count as background when finding the bounding box. */
const INK = 8;

/** Area-average resampling of the [x0, x0+w) × [y0, y0+h) window of `src` to `tw`×`th`. */
function resample(src: ArrayLike<number>, width: number, x0: number, y0: number, w: number, h: number, tw: number, th: number): Float64Array {
  const out = new Float64Array(tw * th);
  const sx = w / tw;
  const sy = h / th;
  for (let ty = 0; ty < th; ty++) {
    const top = y0 + ty * sy;
    const bottom = top + sy;
    for (let tx = 0; tx < tw; tx++) {
      const left = x0 + tx * sx;
      const right = left + sx;
      let sum = 0;
      for (let y = Math.floor(top); y < Math.ceil(bottom); y++) {
        const wy = Math.min(bottom, y + 1) - Math.max(top, y);
        if (wy <= 0) continue;
        for (let x = Math.floor(left); x < Math.ceil(right); x++) {
          const wx = Math.min(right, x + 1) - Math.max(left, x);
          if (wx > 0) sum += src[y * width + x] * wx * wy;
        }
      }
      out[ty * tw + tx] = sum / (sx * sy);
    }
  }
  return out;
}

/**
 * `intensity` is width×height ink values in 0..255 (white ink on black, as MNIST stores digits).
 * Returns 784 bytes, or all zeros when nothing is drawn.
 */
export function toMnist(intensity: ArrayLike<number>, width: number, height: number): Uint8Array {
  const out = new Uint8Array(MNIST_SIZE * MNIST_SIZE);
  let minX = width;
  let minY = height;
  let maxX = -1;
  let maxY = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (intensity[y * width + x] > INK) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  if (maxX < 0) return out;
  const w = maxX - minX + 1;
  const h = maxY - minY + 1;
  const scale = BOX / Math.max(w, h);
  const tw = Math.max(1, Math.round(w * scale));
  const th = Math.max(1, Math.round(h * scale));
  const small = resample(intensity, width, minX, minY, w, h, tw, th);

  let mass = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const v = small[y * tw + x];
      mass += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
    }
  }
  cx = mass > 0 ? cx / mass : tw / 2;
  cy = mass > 0 ? cy / mass : th / 2;
  const ox = Math.round(MNIST_SIZE / 2 - cx);
  const oy = Math.round(MNIST_SIZE / 2 - cy);
  for (let y = 0; y < th; y++) {
    const ty = y + oy;
    if (ty < 0 || ty >= MNIST_SIZE) continue;
    for (let x = 0; x < tw; x++) {
      const tx = x + ox;
      if (tx < 0 || tx >= MNIST_SIZE) continue;
      out[ty * MNIST_SIZE + tx] = Math.min(255, Math.round(small[y * tw + x]));
    }
  }
  return out;
}

/** Ink intensity (0..255) of canvas RGBA pixels drawn white on black: the red channel. */
export function inkOf(rgba: Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array(rgba.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = rgba[4 * i];
  return out;
}
