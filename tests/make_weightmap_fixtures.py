#!/usr/bin/env python3
"""make_weightmap_fixtures.py - PyTorch and Pillow reference of the weight map of the
autoencoder loss (train.weight_map, train.weight_map_gain; src/train_weight_map.c, nn/wloss.c):
tests/fixtures/weightmap.h5 with, per case, the map as stored (uint8 values as float32, HWC),
the gain, the frames' size after preprocessing, two frames and the frames before them (for
train.changed_weight's weights), pred, scale, and the references:
  w_map = 1 + gain * m / 255 where m = Image.fromarray(map).convert("L").resize((W, H),
          Image.BILINEAR) (the frames' own preprocessing, gymemu's), the same in every channel;
  w = w_map * (1 + alpha where the pixel changed in any channel, else 1);
  loss = (w * (pred - target).abs()).mean() and d(scale * loss)/d pred.
Cases: "grey" (a grey map 37x45 -> 20x24, gain 30, alpha 4, C = 3 frames) and "rgb" (an RGB
map 40x48 -> 20x24, taken as its luma, gain 7.5, alpha 0: the map alone, C = 1).
Run: /usr/bin/python3 tests/make_weightmap_fixtures.py (needs torch, h5py, PIL)."""
import os
import h5py
import numpy as np
import torch
from PIL import Image

from fixture_io import write_case

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "weightmap.h5")


def case(f, name, rng, src_hw, rgb, H, W, C, gain, alpha, scale):
    sh, sw = src_hw
    m = np.zeros((sh, sw, 3) if rgb else (sh, sw), np.uint8)
    m[5:11, 9:30] = 255                                    # a white box (digits)
    m[20:26, 3:8] = 128                                    # a grey one
    m[30:, 33:] = rng.integers(0, 256, m[30:, 33:].shape)  # noise
    img = Image.fromarray(m)
    mr = np.asarray(img.convert("L").resize((W, H), Image.BILINEAR), np.float32)
    w_map = torch.from_numpy(1 + gain * mr / 255).expand(2, C, H, W)
    cur = torch.from_numpy(rng.integers(0, 3, (2, C, H, W)).astype(np.float32) * 100)
    prev = cur.clone()
    prev[0, :, 2:6, 3:9] = 255
    prev[1, C - 1, 10, 4] = 1
    changed = (cur != prev).any(dim=1, keepdim=True).expand_as(cur)
    w = w_map * torch.where(changed, torch.tensor(1.0 + alpha), torch.tensor(1.0))
    target = cur / 255
    pred = torch.rand(2, C, H, W, generator=torch.Generator().manual_seed(int(rng.integers(1 << 30))))
    pred[0, 0, 0, :] = target[0, 0, 0, :]   # exact ties: gradient 0
    pred.requires_grad_(True)
    loss = (w * (pred - target).abs()).mean()
    (loss * scale).backward()
    g = write_case(f, name, dict(n=pred.numel(), H=H, W=W, C=C, rgb=int(rgb)),
                   dict(map=torch.from_numpy(m.astype(np.float32)), cur=cur, prev=prev, w_map=w_map[0].contiguous(),
                        w=w, pred=pred, loss=loss.reshape(1), dpred=pred.grad,
                        gain=torch.tensor([gain]), alpha=torch.tensor([alpha]), scale=torch.tensor([scale])))
    return g


def main():
    rng = np.random.default_rng(11)
    tmp = OUT + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.attrs["torch_version"] = str(torch.__version__).encode()
        case(f, "grey", rng, (37, 45), False, 20, 24, 3, 30.0, 4.0, 0.75)
        case(f, "rgb", rng, (40, 48), True, 20, 24, 1, 7.5, 0.0, 1.25)
    os.replace(tmp, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
