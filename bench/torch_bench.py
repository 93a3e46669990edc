#!/usr/bin/env python3
"""PyTorch's figures for the models and products of bench/gpu.mjs, on the same card, as one JSON object on
stdout (diagnostics go to stderr). Run by bench/gpu.mjs when `torch` is importable; on its own:

    python3 bench/torch_bench.py --data DIR [--device cuda|cpu] [--samples 60000] [--cnn-samples 60000]

Same models as webgrad's benchmark: the MLP 784-128-64-10 (ReLU) and the CNN
Conv2d(1,16,5)-ReLU-MaxPool2d(2)-Conv2d(16,32,5)-ReLU-MaxPool2d(2)-Flatten-Linear(512,10); He-normal
weights and zero biases, softmax cross-entropy, plain SGD at lr 0.1, batch 128, the data on the device and
each batch gathered there from a shuffled permutation. Matmuls in true FP32 (TF32 off), as WGSL computes
them; the TF32 figure of the largest product is given beside it for reference. Times are wall-clock around
`torch.cuda.synchronize()`, after a warm-up on throw-away weights.
"""
import argparse
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn


def log(*args):
    print("[torch]", *args, file=sys.stderr, flush=True)


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return torch.frombuffer(bytearray(data[4 + 4 * dims :]), dtype=torch.uint8).reshape(shape)


def load_mnist(folder, device):
    def images(name):
        return (read_idx(os.path.join(folder, name)).float() / 255.0).to(device)

    def labels(name):
        return read_idx(os.path.join(folder, name)).long().to(device)

    return (
        images("train-images-idx3-ubyte"),
        labels("train-labels-idx1-ubyte"),
        images("t10k-images-idx3-ubyte"),
        labels("t10k-labels-idx1-ubyte"),
    )


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(512, 10),
    )


def he_init(model, seed):
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def train_epoch(model, x, y, count, batch, lr, device, seed):
    """One epoch over the first `count` samples; returns (seconds, steps, mean loss)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator(device=device).manual_seed(seed)
    order = torch.randperm(count, generator=gen, device=device)
    steps = (count + batch - 1) // batch
    total = torch.zeros((), device=device)
    sync(device)
    t0 = time.perf_counter()
    for s in range(steps):
        idx = order[s * batch : (s + 1) * batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.detach() * idx.numel()
    sync(device)
    seconds = time.perf_counter() - t0
    return seconds, steps, float(total) / count


@torch.no_grad()
def evaluate(model, x, y):
    correct = 0
    for i in range(0, x.shape[0], 1000):
        correct += int((model(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum())
    return correct / x.shape[0]


def bench_model(name, build, data, count, batch, lr, device):
    x, y, tx, ty = data
    if name == "cnn":
        x, tx = x.unsqueeze(1), tx.unsqueeze(1)
    # Warm-up on throw-away weights: cuBLAS/cuDNN handles, kernel selection, allocator.
    train_epoch(he_init(build().to(device), 99), x, y, min(count, 20 * batch), batch, lr, device, 99)
    model = he_init(build().to(device), 1)
    seconds, steps, loss = train_epoch(model, x, y, count, batch, lr, device, 7)
    acc = evaluate(model, tx, ty)
    log(f"{name}: {count} samples, {steps} steps in {seconds:.3f} s ({steps / seconds:.0f} steps/s), test accuracy {acc:.4f}")
    return {
        "samples": count,
        "steps": steps,
        "epochSeconds": round(seconds, 5),
        "stepsPerSecond": round(steps / seconds, 1),
        "msPerStep": round(1000 * seconds / steps, 4),
        "trainLoss": round(loss, 4),
        "testAccuracy": round(acc, 4),
    }


def bench_matmul(spec, device, runs=5, tf32=False):
    m, n, k, ta, tb = spec["M"], spec["N"], spec["K"], spec.get("transA", False), spec.get("transB", False)
    a = torch.rand((k, m) if ta else (m, k), device=device) * 2 - 1
    b = torch.rand((n, k) if tb else (k, n), device=device) * 2 - 1
    op = lambda: (a.t() if ta else a) @ (b.t() if tb else b)
    flops = 2 * m * n * k
    reps = max(1, min(200, round(spec.get("runFlops", 2e11) / flops)))
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = tf32
    for _ in range(3):
        op()
    sync(device)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(reps):
            op()
        sync(device)
        times.append(time.perf_counter() - t0)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
    best = sorted(times)[len(times) // 2]
    return {"reps": reps, "msPerMatmul": round(1000 * best / reps, 5), "gflops": round(flops * reps / best / 1e9, 1)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="folder with the four uncompressed MNIST IDX files")
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    p.add_argument("--samples", type=int, default=60000)
    p.add_argument("--cnn-samples", type=int, default=60000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--matmul", default="[]", help="JSON list of {name, M, N, K, transA, transB, runFlops}")
    args = p.parse_args()

    if args.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"skipped": f"torch {torch.__version__} sees no CUDA device"}))
        return
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    log(f"torch {torch.__version__} on {name}")
    started = time.perf_counter()
    data = load_mnist(args.data, device)
    out = {"torch": torch.__version__, "device": name, "cuda": torch.version.cuda if device.type == "cuda" else None, "matmul": []}
    for spec in json.loads(args.matmul):
        row = {**spec, "fp32": bench_matmul(spec, device)}
        log(f"matmul {spec['name']}: {row['fp32']['gflops']} GFLOP/s")
        out["matmul"].append(row)
    if out["matmul"] and device.type == "cuda":
        # The largest product's TF32 rate (tensor cores), for reference: WGSL has no such path.
        last = out["matmul"][-1]
        last["tf32"] = bench_matmul(last, device, tf32=True)
    out["mlp"] = bench_model("mlp", mlp, data, min(args.samples, data[0].shape[0]), args.batch, args.lr, device)
    if args.cnn_samples > 0:
        out["cnn"] = bench_model("cnn", cnn, data, min(args.cnn_samples, data[0].shape[0]), args.batch, args.lr, device)
    out["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
