#!/usr/bin/env python3
"""make_wloss_fixtures.py - PyTorch reference of the changed-pixel-weighted L1 (nn/wloss.c):
tests/fixtures/wloss.h5 with, per case, pred, target, w, scale and PyTorch's
loss = (w * (pred - target).abs()).mean() and d(scale * loss)/d pred.
Cases: "frames" (two uint8-like frames [2,3,5,4], w = 1 + 4 where frame differs from its
previous frame, exact ties included) and "random" (w uniform in [1, 3]).
Run: /usr/bin/python3 tests/make_wloss_fixtures.py (needs torch, h5py)."""
import os
import h5py
import numpy as np
import torch

from fixture_io import write_case

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "wloss.h5")


def case(f, name, pred, target, w, scale):
    pred = pred.clone().requires_grad_(True)
    loss = (w * (pred - target).abs()).mean()
    (loss * scale).backward()
    write_case(f, name, dict(n=pred.numel()), dict(pred=pred, target=target, w=w, loss=loss.reshape(1),
                                                   scale=torch.tensor([scale]), dpred=pred.grad))


def main():
    torch.manual_seed(5)
    tmp = OUT + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["torch_version"] = str(torch.__version__).encode()
        cur = torch.randint(0, 4, (2, 3, 5, 4)).float() * 60
        prev = cur.clone()
        prev[0, :, 1:3, 2] = 255          # pixel changes (all channels)
        prev[1, 1, 4, 0] = 7              # a change in one channel counts for the pixel
        changed = (cur != prev).any(dim=1, keepdim=True).expand_as(cur)
        w = torch.where(changed, torch.tensor(5.0), torch.tensor(1.0))
        target = cur / 255
        pred = torch.rand(2, 3, 5, 4)
        pred[0, 0, 0, :] = target[0, 0, 0, :]   # exact ties: gradient 0
        f.create_dataset("frames_u8/cur", data=cur.numpy().astype(np.float32))   # uint8 values, as float32
        f.create_dataset("frames_u8/prev", data=prev.numpy().astype(np.float32))
        case(f, "frames", pred, target, w, 0.75)
        case(f, "random", torch.randn(6, 7), torch.randn(6, 7), 1 + 2 * torch.rand(6, 7), 1.25)
    os.replace(tmp, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
