/**
 * Whether an adapter is a real GPU or a CPU implementation of WebGPU, by the name the device reports. The
 * planning choices that depend on it (matmul candidates, the norm and gradient-norm reduction splits, the
 * classifier-head fusion) all ask this one function, so they never disagree about an adapter.
 */
export type AdapterKind = 'cpu' | 'gpu';

/** CPU Vulkan (SwiftShader, llvmpipe/lavapipe, softpipe) and D3D WARP ("Microsoft Basic Render Driver"). */
export function adapterKindOf(adapterName: string): AdapterKind {
  return /swiftshader|llvmpipe|lavapipe|softpipe|\bwarp\b|basic render/i.test(adapterName) ? 'cpu' : 'gpu';
}
