#!/usr/bin/python3
"""make_ops_fixtures.py - writes tests/fixtures/ops.h5: PyTorch (1.13) reference values for
nemu's layer kernels, losses and optimizers, read by tests/test_ops.c and tests/test_optim.c.

Per layer group: inputs, parameters, a random upstream gradient `dout`, the output `out`
and torch's gradients (`dinp`, `dw`, `db`); integer attributes give the shapes. Adam / AdamW
groups: initial params `p0`, gradients `g` [10, n], params after each step `p` [10, n].
All data float32. Run: /usr/bin/python3 tests/make_ops_fixtures.py  (from the repo root)
"""
import os
import sys

import h5py
import numpy as np
import torch

torch.manual_seed(1234)
torch.set_default_dtype(torch.float32)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ops.h5")


def f32(t):
    return t.detach().cpu().numpy().astype(np.float32)


def put(f, group, attrs, **tensors):
    g = f.create_group(group)
    for k, v in attrs.items():
        g.attrs[k] = np.int64(v)
    for k, v in tensors.items():
        g.create_dataset(k, data=f32(v))


def layer_case(f, name, module, x, attrs, extra=None):
    x = x.clone().requires_grad_(True)
    out = module(x)
    dout = torch.randn_like(out)
    (out * dout).sum().backward()
    t = dict(inp=x, dout=dout, out=out, dinp=x.grad)
    if getattr(module, "weight", None) is not None:
        t.update(w=module.weight, dw=module.weight.grad)
    if getattr(module, "bias", None) is not None:
        t.update(b=module.bias, db=module.bias.grad)
    put(f, name, attrs, **t)


def conv_case(f, name, transposed, B, C, H, W, OC, K, S, P):
    mod = (torch.nn.ConvTranspose2d if transposed else torch.nn.Conv2d)(C, OC, K, stride=S, padding=P)
    layer_case(f, name, mod, torch.randn(B, C, H, W),
               dict(B=B, C=C, H=H, W=W, OC=OC, K=K, S=S, P=P))


def loss_case(f, name, fn):
    pred = torch.randn(5, 7)
    target = torch.randn(5, 7)
    target[0, :3] = pred[0, :3]           # exact ties: L1's gradient is sign(0) = 0 there
    pred.requires_grad_(True)
    loss = fn(pred, target)
    scale = torch.tensor(0.75)
    (loss * scale).backward()
    put(f, name, dict(n=pred.numel()), pred=pred, target=target, loss=loss.reshape(1),
        scale=scale.reshape(1), dpred=pred.grad)


def adam_case(f, name, decoupled, wd, lr=0.01, n=7, steps=10):
    p = torch.nn.Parameter(torch.randn(n))
    p0 = p.detach().clone()
    opt = (torch.optim.AdamW if decoupled else torch.optim.Adam)([p], lr=lr, weight_decay=wd)
    gs, ps = [], []
    for t in range(steps):
        g = torch.randn(n) * (0.1 if t % 3 else 2.0)   # mixed gradient scales
        if t == 4:
            g[0] = 0.0
        p.grad = g.clone()
        opt.step()
        gs.append(g)
        ps.append(p.detach().clone())
    g = f.create_group(name)
    g.attrs["decoupled"] = np.int64(decoupled)
    g.attrs["lr"] = np.float64(lr)
    g.attrs["weight_decay"] = np.float64(wd)
    g.create_dataset("p0", data=f32(p0))
    g.create_dataset("g", data=f32(torch.stack(gs)))
    g.create_dataset("p", data=f32(torch.stack(ps)))


def clip_case(f, name, max_norm):
    params = [torch.nn.Parameter(torch.zeros(5)), torch.nn.Parameter(torch.zeros(3, 2))]
    params[0].grad = torch.randn(5)
    params[1].grad = torch.randn(3, 2) * 3
    g_before = torch.cat([q.grad.reshape(-1) for q in params]).clone()
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    g_after = torch.cat([q.grad.reshape(-1) for q in params])
    g = f.create_group(name)
    g.attrs["max_norm"] = np.float64(max_norm)
    g.create_dataset("g", data=f32(g_before))
    g.create_dataset("clipped", data=f32(g_after))
    g.create_dataset("norm", data=f32(norm.reshape(1)))


def main():
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    tmp = OUT + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["torch_version"] = str(torch.__version__).encode()
        f.attrs["format_version"] = np.int64(1)
        conv_case(f, "conv2d_a", False, 2, 3, 7, 6, 4, 4, 2, 1)     # encoder-like, non-square
        conv_case(f, "conv2d_b", False, 2, 2, 5, 5, 3, 3, 1, 1)
        conv_case(f, "convt2d_a", True, 2, 4, 4, 5, 3, 4, 2, 1)     # decoder-like, non-square
        conv_case(f, "convt2d_b", True, 1, 2, 3, 4, 2, 3, 2, 1)
        layer_case(f, "linear", torch.nn.Linear(5, 4), torch.randn(3, 5), dict(B=3, IN=5, OUT=4))
        ln = torch.nn.LayerNorm(8)
        with torch.no_grad():                 # non-trivial affine parameters
            ln.weight.copy_(1 + 0.3 * torch.randn(8))
            ln.bias.copy_(0.2 * torch.randn(8))
        layer_case(f, "layernorm", ln, 2 * torch.randn(3, 8) + 0.5, dict(B=3, N=8))
        layer_case(f, "relu", torch.nn.ReLU(), torch.randn(4, 10), dict(n=40))
        layer_case(f, "gelu", torch.nn.GELU(), 2 * torch.randn(4, 10), dict(n=40))
        layer_case(f, "sigmoid", torch.nn.Sigmoid(), 3 * torch.randn(4, 10), dict(n=40))
        loss_case(f, "l1", torch.nn.functional.l1_loss)
        loss_case(f, "mse", torch.nn.functional.mse_loss)
        adam_case(f, "adam", 0, 0.0)
        adam_case(f, "adam_l2", 0, 0.1)
        adam_case(f, "adamw", 1, 0.1, lr=0.02)
        clip_case(f, "clip", 1.0)
        clip_case(f, "noclip", 100.0)
    os.replace(tmp, OUT)
    print("wrote %s (%d bytes)" % (OUT, os.path.getsize(OUT)))


if __name__ == "__main__":
    sys.exit(main())
