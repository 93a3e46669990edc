// The second step of a split-K matmul (compiled after act_fns.wgsl and matmul_common.wgsl): C = epilogue(Σ_z P[z])
// over the SPLIT_K partial products P [SPLIT_K, M, N] that matmul_tiled.wgsl wrote with SPLIT_K > 1.
//
// One invocation per vec4 of C (N % 4 == 0); the partials are added in order z = 0, 1, ..., so the
// result is the same on every run (but not bitwise the reference's: the reference sums all of K in one
// sequence, split-K sums SPLIT_K sequences and then their totals).
//
// Bindings: 0 P (read, the scratch buffer), 1 unused (a dummy), 2 E (read; a dummy when unused),
// 3 C (read_write), 4 D and 5 Params (matmul_common.wgsl; D a dummy) — the family's layout, so the product's Params serve both steps.

override SPLIT_K: u32 = 2u;

@group(0) @binding(0) var<storage, read> partials: array<vec4f>;
@group(0) @binding(1) var<storage, read> unused: array<vec4f>;
@group(0) @binding(2) var<storage, read> e: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4f>;

// The family's interface; never called here (BIAS_GRAD is never split along K).
fn a_at(k: u32, m: u32) -> f32 {
  return partials[0][0];
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n4 = params.N / 4u;
  let count = params.M * n4;
  let i = gid.y * groups.x * 256u + gid.x;
  if (i >= count) { return; }
  var sum = partials[i];
  for (var z = 1u; z < SPLIT_K; z++) {
    sum += partials[z * count + i];
  }
  var e_value = vec4f(0.0);
  if (epilogue_reads_e()) { e_value = e[e_index4(i / n4, i % n4)]; }
  c[i] = epilogue4(sum, e_value);
}
