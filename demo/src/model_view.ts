/** The page's view of its current model: the drawn digit as the model sees it, its layers, its first-layer weights. */
import type { TrainerProxy } from '../../src/index';
import { $ } from './dom';
import { drawTiles, firstWeightLayer, weightTiles } from './weight_images';

const preview = $<HTMLCanvasElement>('preview');
export function showPreview(pixels: Uint8Array): void {
  const ctx = preview.getContext('2d');
  if (!ctx) return;
  const image = ctx.createImageData(28, 28);
  pixels.forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
  ctx.putImageData(image, 0, 0);
}

export function showModel(t: TrainerProxy | undefined): void {
  $('model-layers').textContent = t ? t.info.layers.join('\n') : '';
  const params = $('model-params');
  params.textContent = t
    ? `${t.info.parameterCount.toLocaleString('en')} trainable parameters in ${t.info.layers.length} layers (state-dict path, type, output shape per sample):`
    : "The model's layers appear here once it is built.";
  params.dataset.count = t ? String(t.info.parameterCount) : '';
}

const weightsCanvas = $<HTMLCanvasElement>('weights');
/** Tiles of the first Linear's rows or the first Conv2d's kernels, found by name in the layer summary. */
export async function showWeights(t: TrainerProxy, note: string, isCurrent: () => boolean): Promise<void> {
  const first = firstWeightLayer(t.info.layers);
  const shape = first && t.info.parameters.find((p) => p.name === first.weight)?.shape;
  const data = first && shape ? (await t.weights()).get(first.weight) : undefined;
  if (!isCurrent()) return; // replaced while the weights were on their way
  const tiles = !first ? 'the model has no Linear or Conv2d layer' : !shape || !data ? `${first.weight} is not among its parameters` : weightTiles(first.type, shape, data);
  if (typeof tiles === 'string') {
    drawTiles(weightsCanvas, undefined);
    weightsCanvas.dataset.layer = '';
    weightsCanvas.dataset.tiles = '0';
    $('weights-note').textContent = `No weight images: ${tiles}.`;
    return;
  }
  const drawn = drawTiles(weightsCanvas, tiles);
  weightsCanvas.dataset.layer = first!.weight;
  weightsCanvas.dataset.tiles = String(drawn);
  const size = tiles.scale > 1 ? `, ${tiles.height}×${tiles.width} shown ${tiles.scale}× larger` : '';
  $('weights-note').textContent = `${note}: ${drawn} of the ${tiles.count} ${tiles.unit}s of ${first!.weight} (${first!.type}${size}).`;
}
