#!/usr/bin/python3
"""Generates golden values for HierRec.Tensors from PyTorch (Debian python3-torch 1.13).

Run from the repository root:  /usr/bin/python3 tests/HierRec.Tensors.Tests/Golden/make_golden.py
Writes tests/HierRec.Tensors.Tests/Golden/transformer_layer.safetensors. CI only reads that fixture.

The file is plain safetensors written by this script (no safetensors package needed), with metadata
{"format": "hierrec-golden", "version": "1"} that the tests check before trusting it.
Parameter names follow HierRec's TransformerEncoderLayer; PyTorch's packed in_proj is split into
query/key/value.
"""
import json, struct, os
import torch

torch.manual_seed(1234)
torch.set_num_threads(1)
D, H, FF, B, T = 32, 4, 64, 3, 7

layer = torch.nn.TransformerEncoderLayer(D, H, FF, dropout=0.1, activation="gelu",
                                         batch_first=True, layer_norm_eps=1e-12)
# Make LayerNorm parameters non-trivial so their gradients are tested meaningfully.
with torch.no_grad():
    for norm in (layer.norm1, layer.norm2):
        norm.weight.add_(0.1 * torch.randn(D))
        norm.bias.add_(0.1 * torch.randn(D))
layer.eval()

x = torch.randn(B, T, D, requires_grad=True)
lengths = [7, 5, 3]                      # padded batch: keys past each length are masked
pad = torch.zeros(B, T, dtype=torch.bool)
for b, n in enumerate(lengths):
    pad[b, n:] = True
y = layer(x, src_key_padding_mask=pad)
upstream = torch.randn(B, T, D)
(y * upstream).sum().backward()

def split3(t):
    return t[:D], t[D:2 * D], t[2 * D:]

out = {}
out["input"] = x.detach()
out["key_mask"] = (~pad).float()
out["upstream"] = upstream
out["output"] = y.detach()
out["input.grad"] = x.grad

a = layer.self_attn
for prefix, val in (("", lambda p: p.detach()), ("grad:", lambda p: p.grad)):
    qw, kw, vw = split3(val(a.in_proj_weight))
    qb, kb, vb = split3(val(a.in_proj_bias))
    out[prefix + "attention.query.weight"] = qw
    out[prefix + "attention.query.bias"] = qb
    out[prefix + "attention.key.weight"] = kw
    out[prefix + "attention.key.bias"] = kb
    out[prefix + "attention.value.weight"] = vw
    out[prefix + "attention.value.bias"] = vb
    out[prefix + "attention.output.weight"] = val(a.out_proj.weight)
    out[prefix + "attention.output.bias"] = val(a.out_proj.bias)
    for name in ("norm1", "linear1", "linear2", "norm2"):
        m = getattr(layer, name)
        out[prefix + name + ".weight"] = val(m.weight)
        out[prefix + name + ".bias"] = val(m.bias)

# AdamW reference: three steps on one parameter with fixed gradients, decay on.
p = torch.randn(5, 4, requires_grad=True)
out["adamw.initial"] = p.detach().clone()
opt = torch.optim.AdamW([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
for step in range(3):
    g = torch.randn(5, 4)
    out[f"adamw.grad{step}"] = g
    p.grad = g.clone()
    opt.step()
out["adamw.final"] = p.detach().clone()

def write_safetensors(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for blob in blobs:
            f.write(blob)

here = os.path.dirname(os.path.abspath(__file__))
write_safetensors(os.path.join(here, "transformer_layer.safetensors"), out,
                  {"format": "hierrec-golden", "version": "1", "torch": torch.__version__,
                   "generator": "tests/HierRec.Tensors.Tests/Golden/make_golden.py",
                   "config": json.dumps({"d": D, "heads": H, "ff": FF, "batch": B, "seq": T, "eps": 1e-12,
                                         "adamw": {"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1}})})
print("wrote", len(out), "tensors")
