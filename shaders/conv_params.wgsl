// The geometry of a 2-D convolution, shared by conv2d.wgsl and im2col.wgsl (src/kernels/conv.ts,
// convParamsLayout, packs it). Pads are applied on both sides; dilation is 1.
struct Params {
  batch: u32,
  in_channels: u32,
  in_h: u32,
  in_w: u32,
  out_channels: u32,
  out_h: u32,
  out_w: u32,
  kernel_h: u32,
  kernel_w: u32,
  stride_h: u32,
  stride_w: u32,
  pad_h: u32,
  pad_w: u32,
  splits: u32,          // grad_weight: number of partial sums
  rows_per_split: u32,  // grad_weight: output rows (n, oh) per partial sum
  alpha: f32,           // the activation's alpha (ACT / ACT_GRAD)
}
