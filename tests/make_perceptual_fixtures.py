#!/usr/bin/env python3
"""make_perceptual_fixtures.py - PyTorch reference of the perceptual term (nn/perceptual.c,
train.perceptual_weight): tests/fixtures/perceptual.h5 with, per case, a frozen encoder's conv
stages (encoder_conv.{2s}.weight/bias, Conv2d k4 s2 p1 + ReLU, gymemu's names), a frame x, a
reconstruction r, scale and PyTorch's
    loss = mean over stages s of F.mse_loss(phi_s(r), phi_s(x))
and d(scale * loss)/d r (the features of x carry no gradient). Computed in float64 from the
float32 values that are stored.
Cases: "gray" (B 2, 1 x 16 x 16, 2 stages of 4, 8 channels: the GEMM paths) and "rgb"
(B 2, 3 x 48 x 48, 3 stages of 16, 32, 64 channels: the direct and Winograd paths).
Run: /usr/bin/python3 tests/make_perceptual_fixtures.py (needs torch, h5py)."""
import os
import h5py
import torch
import torch.nn.functional as F

from fixture_io import write_case

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "perceptual.h5")


def f32(t):
    return t.float().double()


def case(f, name, B, C, H, W, S, base, scale):
    ws, bs, cin = [], [], C
    for s in range(S):
        oc = base << s
        conv = torch.nn.Conv2d(cin, oc, 4, 2, 1)   # PyTorch's default init
        ws.append(f32(conv.weight.detach()))
        bs.append(f32(conv.bias.detach()))
        cin = oc
    x = f32(torch.rand(B, C, H, W))
    r = f32((x + 0.2 * torch.randn(B, C, H, W)).clamp(0, 1)).requires_grad_(True)

    def feats(t):
        out = []
        for w, b in zip(ws, bs):
            t = F.relu(F.conv2d(t, w, b, stride=2, padding=1))
            out.append(t)
        return out

    fr, fx = feats(r), feats(x)
    loss = sum(F.mse_loss(a, b.detach()) for a, b in zip(fr, fx)) / S
    (loss * scale).backward()
    stages = {}
    for s in range(S):
        stages[f"encoder_conv.{2 * s}.weight"], stages[f"encoder_conv.{2 * s}.bias"] = ws[s], bs[s]
    write_case(f, name, dict(B=B, C=C, H=H, W=W, S=S, base=base),
               dict(stages, x=x, r=r, loss=loss.reshape(1), scale=torch.tensor([scale]), dr=r.grad))


def main():
    torch.manual_seed(14)
    tmp = OUT + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["torch_version"] = str(torch.__version__).encode()
        case(f, "gray", 2, 1, 16, 16, 2, 4, 0.1)
        case(f, "rgb", 2, 3, 48, 48, 3, 16, 1.0)
    os.replace(tmp, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
