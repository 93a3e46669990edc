"""
Records test/fixtures/torch_state_dicts.json from real PyTorch: for each layer list, the state-dict keys,
shapes and dtypes that torch.nn builds, which test/io/state_dict.test.ts compares webgrad's names with.
Run from the project root: python3 python/record_fixtures.py
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import torch  # noqa: E402
import webgrad_torch as wt  # noqa: E402

MODELS = {
    "mlp_batchnorm_dropout": [
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 784, "out_features": 32},
        {"type": "BatchNorm1d", "num_features": 32},
        {"type": "ReLU"},
        {"type": "Dropout", "p": 0.2},
        {"type": "Linear", "in_features": 32, "out_features": 10},
    ],
    "cnn": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 16, "kernel_size": 5, "padding": 2},
        {"type": "BatchNorm2d", "num_features": 16},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Conv2d", "in_channels": 16, "out_channels": 32, "kernel_size": 5},
        {"type": "ReLU"},
        {"type": "MaxPool2d", "kernel_size": 2},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 800, "out_features": 128},
        {"type": "ReLU"},
        {"type": "Dropout", "p": 0.3},
        {"type": "Linear", "in_features": 128, "out_features": 10},
    ],
    "resnet_norms": [
        {"type": "Conv2d", "in_channels": 1, "out_channels": 8, "kernel_size": 3, "padding": 1, "bias": False},
        {"type": "GroupNorm", "num_groups": 2, "num_channels": 8},
        {"type": "ReLU"},
        {"type": "Residual", "body": [
            {"type": "Conv2d", "in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1},
            {"type": "BatchNorm2d", "num_features": 8},
            {"type": "ReLU"},
            {"type": "Conv2d", "in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1},
        ]},
        {"type": "Residual", "body": [
            {"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1},
            {"type": "InstanceNorm2d", "num_features": 16, "affine": True},
            {"type": "GELU"},
        ], "shortcut": [
            {"type": "Conv2d", "in_channels": 8, "out_channels": 16, "kernel_size": 1, "stride": 2},
        ]},
        {"type": "AvgPool2d", "kernel_size": 2},
        {"type": "LayerNorm", "normalized_shape": [16, 7, 7]},
        {"type": "Flatten"},
        {"type": "Linear", "in_features": 784, "out_features": 10},
        {"type": "SiLU"},
    ],
}


def main():
    out = {"torch": torch.__version__, "models": {}}
    for name, layers in MODELS.items():
        model = wt.build(layers)
        state = model.state_dict()
        out["models"][name] = {
            "layers": layers,
            "state_dict": [{"name": k, "shape": list(v.shape), "dtype": wt._NAMES[v.dtype]} for k, v in state.items()],
        }
    path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "torch_state_dicts.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {os.path.normpath(path)}")


if __name__ == "__main__":
    main()
