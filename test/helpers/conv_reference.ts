/**
 * Float64 plain-loop references of 2-D convolution on NCHW tensors and its gradients. Deliberately naive
 * and written independently of the kernels: the forward pass loops over every output and tap, and both
 * gradients are the forward loop with the multiply-add redirected (the input gradient scatters, where
 * the kernel gathers), so a mistake in the kernels' index algebra cannot be repeated here.
 */
import type { ConvGeometry } from '../../src/graph/ops_conv';
import type { Vec } from './reference';

/** A ConvGeometry from the shapes and hyperparameters, computing OH and OW as PyTorch does. */
export function geometry(
  [batch, inChannels, inH, inW]: readonly number[],
  [outChannels, , kernelH, kernelW]: readonly number[],
  { strideH = 1, strideW = 1, padH = 0, padW = 0 } = {},
): ConvGeometry {
  const outH = Math.floor((inH + 2 * padH - kernelH) / strideH) + 1;
  const outW = Math.floor((inW + 2 * padW - kernelW) / strideW) + 1;
  return { batch, inChannels, inH, inW, outChannels, outH, outW, kernelH, kernelW, strideH, strideW, padH, padW };
}

/** Calls f(x index, w index, y index, co) for every product x·w of the forward sum (padding skipped). */
function forEachProduct(g: ConvGeometry, f: (xi: number, wi: number, yi: number, co: number) => void): void {
  for (let n = 0; n < g.batch; n++) {
    for (let co = 0; co < g.outChannels; co++) {
      for (let oh = 0; oh < g.outH; oh++) {
        for (let ow = 0; ow < g.outW; ow++) {
          const yi = ((n * g.outChannels + co) * g.outH + oh) * g.outW + ow;
          for (let ci = 0; ci < g.inChannels; ci++) {
            for (let kh = 0; kh < g.kernelH; kh++) {
              const ih = oh * g.strideH + kh - g.padH;
              if (ih < 0 || ih >= g.inH) continue;
              for (let kw = 0; kw < g.kernelW; kw++) {
                const iw = ow * g.strideW + kw - g.padW;
                if (iw < 0 || iw >= g.inW) continue;
                const xi = ((n * g.inChannels + ci) * g.inH + ih) * g.inW + iw;
                const wi = ((co * g.inChannels + ci) * g.kernelH + kh) * g.kernelW + kw;
                f(xi, wi, yi, co);
              }
            }
          }
        }
      }
    }
  }
}

/** y [N,Co,OH,OW] = conv(x [N,Ci,H,W], w [Co,Ci,KH,KW]) + bias [Co] (bias optional). */
export function conv2dRef(x: Vec, w: Vec, bias: Vec | undefined, g: ConvGeometry): Float64Array {
  const y = new Float64Array(g.batch * g.outChannels * g.outH * g.outW);
  forEachProduct(g, (xi, wi, yi) => (y[yi] += x[xi] * w[wi]));
  if (bias) y.forEach((v, i) => (y[i] = v + bias[Math.floor(i / (g.outH * g.outW)) % g.outChannels]));
  return y;
}

/** dx [N,Ci,H,W] = ∂(Σ dy·y)/∂x: every product x·w of the forward sum sends dy·w back to its x. */
export function conv2dGradInputRef(dy: Vec, w: Vec, g: ConvGeometry): Float64Array {
  const dx = new Float64Array(g.batch * g.inChannels * g.inH * g.inW);
  forEachProduct(g, (xi, wi, yi) => (dx[xi] += dy[yi] * w[wi]));
  return dx;
}

/** dw [Co,Ci,KH,KW] and db [Co] = ∂(Σ dy·y)/∂w, ∂/∂b. */
export function conv2dGradWeightRef(dy: Vec, x: Vec, g: ConvGeometry): { dw: Float64Array; db: Float64Array } {
  const dw = new Float64Array(g.outChannels * g.inChannels * g.kernelH * g.kernelW);
  const db = new Float64Array(g.outChannels);
  forEachProduct(g, (xi, wi, yi) => (dw[wi] += dy[yi] * x[xi]));
  const ohw = g.outH * g.outW;
  for (let i = 0; i < dy.length; i++) db[Math.floor(i / ohw) % g.outChannels] += dy[i];
  return { dw, db };
}

/** cols [N·OH·OW, Ci·KH·KW] of the im2col path: row (n, oh, ow), column (ci, kh, kw); 0 in the padding. */
export function im2colRef(x: Vec, g: ConvGeometry): Float64Array {
  const taps = g.inChannels * g.kernelH * g.kernelW;
  const cols = new Float64Array(g.batch * g.outH * g.outW * taps);
  forEachTap(g, (m, k, xi) => (cols[m * taps + k] = xi < 0 ? 0 : x[xi]));
  return cols;
}

/** dx [N,Ci,H,W] = ∂(Σ dcols·cols)/∂x: every tap of every row sends its dcols element back to the x it copied. */
export function col2imRef(dcols: Vec, g: ConvGeometry): Float64Array {
  const taps = g.inChannels * g.kernelH * g.kernelW;
  const dx = new Float64Array(g.batch * g.inChannels * g.inH * g.inW);
  forEachTap(g, (m, k, xi) => xi >= 0 && (dx[xi] += dcols[m * taps + k]));
  return dx;
}

/** Calls f(row m, column k, x index or −1 in the padding) for every element of the unfolded input. */
function forEachTap(g: ConvGeometry, f: (m: number, k: number, xi: number) => void): void {
  for (let n = 0; n < g.batch; n++) {
    for (let oh = 0; oh < g.outH; oh++) {
      for (let ow = 0; ow < g.outW; ow++) {
        const m = (n * g.outH + oh) * g.outW + ow;
        for (let ci = 0; ci < g.inChannels; ci++) {
          for (let kh = 0; kh < g.kernelH; kh++) {
            for (let kw = 0; kw < g.kernelW; kw++) {
              const [ih, iw] = [oh * g.strideH + kh - g.padH, ow * g.strideW + kw - g.padW];
              const inside = ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW;
              f(m, (ci * g.kernelH + kh) * g.kernelW + kw, inside ? ((n * g.inChannels + ci) * g.inH + ih) * g.inW + iw : -1);
            }
          }
        }
      }
    }
  }
}
