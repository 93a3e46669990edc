// How the gradient-norm pass cuts the parameter arena (compiled before grad_norm.wgsl and optimizer.wgsl,
// which both declare `slots` (vec4u: offset, size, lr scale bits, first step) and Params.chunk_vec4): every
// slot in runs of chunk_vec4 vec4s, at least one, in slot order. src/optim/optimizer.ts `gradChunkCount`
// counts them the same way.

// The chunks of slot s.
fn chunks_of(s: u32) -> u32 {
  return max(1u, ((slots[s].y + 3u) / 4u + params.chunk_vec4 - 1u) / params.chunk_vec4);
}
