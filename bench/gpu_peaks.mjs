/**
 * Plain FP32 peaks (no tensor cores, no TF32) of GPUs a benchmark may meet, from the vendors' datasheets at
 * boost clock: what an FP32 WGSL matmul can at best approach. WebGPU has no tensor-core path for f32, so
 * this, not the bf16/TF32 figure, is the ceiling to compare against. Matched against the adapter's name
 * (Dawn gives e.g. "nvidia hopper NVIDIA H200"), first match wins, so specific names come first.
 */
export const FP32_PEAKS = [
  { pattern: /H200/i, name: 'NVIDIA H200 (SXM)', tflops: 67 },
  { pattern: /H100.*PCIe/i, name: 'NVIDIA H100 PCIe', tflops: 51 },
  { pattern: /H100/i, name: 'NVIDIA H100 (SXM)', tflops: 67 },
  { pattern: /GH200/i, name: 'NVIDIA GH200', tflops: 67 },
  { pattern: /A100/i, name: 'NVIDIA A100', tflops: 19.5 },
  { pattern: /L40S/i, name: 'NVIDIA L40S', tflops: 91.6 },
  { pattern: /L40\b/i, name: 'NVIDIA L40', tflops: 90.5 },
  { pattern: /\bL4\b/i, name: 'NVIDIA L4', tflops: 30.3 },
  { pattern: /A10G/i, name: 'NVIDIA A10G', tflops: 31.2 },
  { pattern: /\bA10\b/i, name: 'NVIDIA A10', tflops: 31.2 },
  { pattern: /\bT4\b/i, name: 'NVIDIA T4', tflops: 8.1 },
  { pattern: /V100/i, name: 'NVIDIA V100', tflops: 15.7 },
  { pattern: /RTX 4090/i, name: 'NVIDIA GeForce RTX 4090', tflops: 82.6 },
  { pattern: /RTX 3090/i, name: 'NVIDIA GeForce RTX 3090', tflops: 35.6 },
  { pattern: /MI300X/i, name: 'AMD Instinct MI300X', tflops: 163.4 },
  { pattern: /MI250/i, name: 'AMD Instinct MI250X', tflops: 47.9 },
];

/** { name, tflops } for the adapter, or null when it is not in the table. */
export function fp32Peak(adapterName) {
  const hit = FP32_PEAKS.find((p) => p.pattern.test(adapterName ?? ''));
  return hit ? { name: hit.name, tflops: hit.tflops } : null;
}

/** Adapters that are CPUs pretending to be GPUs: a GPU benchmark on one measures the CPU. */
export function isCpuAdapter(adapterName) {
  return /swiftshader|llvmpipe|lavapipe|softpipe|\bcpu\b|warp|basic render/i.test(adapterName ?? '');
}
