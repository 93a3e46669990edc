"""
webgrad <-> PyTorch: build the torch.nn.Sequential a webgrad layer list describes, and read or write the
safetensors state dicts webgrad saves (without the `safetensors` package: the format is 8 bytes of header
length, a JSON header, then the raw little-endian tensors).

    import json, webgrad_torch as wt
    layers = json.load(open("cnn.json"))
    model = wt.build(layers)
    model.load_state_dict(wt.load_file("model.safetensors"), strict=True)

A {"type": "Residual", "body": [...], "shortcut": [...]} layer becomes `Residual`, a module holding
`self.body = nn.Sequential(...)` (and `self.shortcut`), whose forward is body(x) + shortcut(x).
"""
import json
import struct

import torch
from torch import nn

_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
_NAMES = {v: k for k, v in _DTYPES.items()}
# Arguments webgrad adds to a layer that are not torch.nn constructor arguments.
_WEBGRAD_ONLY = {"type", "init"}


class Residual(nn.Module):
    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = nn.Sequential(*body)
        if shortcut is not None:
            self.shortcut = nn.Sequential(*shortcut)

    def forward(self, x):
        return self.body(x) + (self.shortcut(x) if hasattr(self, "shortcut") else x)


def build_layer(spec):
    kind = spec["type"]
    if kind == "Residual":
        shortcut = spec.get("shortcut")
        return Residual([build_layer(s) for s in spec["body"]], [build_layer(s) for s in shortcut] if shortcut else None)
    args = {k: (tuple(v) if isinstance(v, list) and k != "normalized_shape" else v) for k, v in spec.items() if k not in _WEBGRAD_ONLY}
    return getattr(nn, kind)(**args)


def build(layers):
    """The nn.Sequential of a webgrad layer list (a list, or {"layers": [...]})."""
    if isinstance(layers, dict):
        layers = layers["layers"]
    return nn.Sequential(*[build_layer(s) for s in layers])


def load_file(path):
    """A safetensors file as {name: tensor}."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    base = 8 + length
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = _DTYPES[info["dtype"]]
        raw = bytearray(data[base + begin : base + end])
        tensor = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        out[name] = tensor.reshape(info["shape"]).clone()
    return out


def save_file(tensors, path, metadata=None):
    """Writes {name: tensor} as safetensors (what webgrad's --weights and Trainer.create({weights}) read)."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))
