"""
Records test/fixtures/torch_steps.json from real PyTorch: for small layer lists covering every layer kind,
the initial weights, one batch of 8 byte images (as webgrad scales them, x = byte/255), the training-mode
loss and the gradient of every parameter, and the running statistics after the step.
test/nn/torch_steps.test.ts loads the weights into webgrad (as a state dict), runs the same step on the
GPU and compares. Run from the project root: python3 python/record_torch_steps.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import webgrad_torch as wt  # noqa: E402

MODELS = {
    "cnn": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 5, "padding": 2},
        {"type": "BatchNorm2d", "num_features": 4},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": 3},
        {"type": "ReLU"},
        {"type": "AvgPool2d", "kernel_size": 2},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 216, "out_features": 10},
    ],
    "resnet_norms": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1},
        {"type": "GroupNorm", "num_groups": 2, "num_channels": 4},
        {"type": "GELU"},
        {"type": "Residual", "body": [
            {"type": "Conv2d", "in_channels": 4, "out_channels": 4, "kernel_size": 3, "padding": 1},
            {"type": "InstanceNorm2d", "num_features": 4, "affine": True},
            {"type": "SiLU"},
            {"type": "Conv2d", "in_channels": 4, "out_channels": 4, "kernel_size": 1},
        ]},
        {"type": "MaxPool2d", "kernel_size": 3, "stride": 2, "padding": 1},
        {"type": "Residual", "body": [
            {"type": "Conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": 3, "padding": 1},
            {"type": "BatchNorm2d", "num_features": 6},
            {"type": "LeakyReLU", "negative_slope": 0.1},
        ], "shortcut": [{"type": "Conv2d", "in_channels": 4, "out_channels": 6, "kernel_size": 1, "bias": False}]},
        {"type": "LayerNorm", "normalized_shape": [6, 7, 7]},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 294, "out_features": 10},
        {"type": "ELU", "alpha": 0.7},
        {"type": "Linear", "in_features": 10, "out_features": 10},
    ],
}


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (8, 1, 28, 28), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 10, (8,), generator=gen)
    x = images.double() / 255
    out = {"torch": torch.__version__, "images": images.flatten().tolist(), "labels": labels.tolist(), "models": {}}
    for name, layers in MODELS.items():
        model = wt.build(layers).double()
        for module in model.modules():  # non-zero norm affine parameters, so their gradients are exercised
            if isinstance(module, (torch.nn.BatchNorm2d, torch.nn.GroupNorm, torch.nn.InstanceNorm2d, torch.nn.LayerNorm)) and module.weight is not None:
                with torch.no_grad():
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.5, 0.5)
        initial = {k: v.clone() for k, v in model.state_dict().items()}
        model.train()
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        grads = {k: p.grad.flatten().tolist() for k, p in model.named_parameters()}
        state = {k: {"shape": list(v.shape), "dtype": wt._NAMES[v.dtype] if v.dtype != torch.float64 else "F32", "data": v.flatten().tolist()} for k, v in initial.items()}
        after = {k: v.flatten().tolist() for k, v in model.state_dict().items() if "running" in k}
        out["models"][name] = {"layers": layers, "state_dict": state, "loss": loss.item(), "grads": grads, "running_after": after}
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch_steps.json")
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
