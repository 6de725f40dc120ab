"""make_spatial_fixtures.py - PyTorch reference fixtures of the spatial model family
(tests/nemu_modules.py) that tests/test_spatial.c checks nemu against. Run from the root:

    /usr/bin/python3 tests/make_spatial_fixtures.py    # writes tests/fixtures/spatial_*.h5

As in make_model_fixtures.py the reference runs in float64 from float32 weights and inputs.
Files (float32 datasets; attributes give the sizes):
  spatial_ae_gray80.h5  SpatialAutoencoder 80x80x1, 3 stages, base 8, latent 16x10x10, batch 2
  spatial_ae_rgb.h5     32x48x3 (non-square RGB), 3 stages, base 4, latent 8x4x6, batch 2
Each: /x, /state_dict/<name> (torch init), /recon, /z, /loss (L1), /grads/<name>, and
/adam_losses: the loss before each of 10 torch.optim.Adam(lr=1e-3) steps on the same batch.
"""
import os
import sys

import numpy as np

try:
    import h5py
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"make_spatial_fixtures.py needs torch and h5py: {e}")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import ADAM_STEPS, LR, adam_losses, put  # noqa: E402
from nemu_modules import SpatialAutoencoder  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def spatial_ae_fixture(path, C, H, W, stages, base, lc, B, seed):
    torch.manual_seed(seed)
    model = SpatialAutoencoder(C, H, W, lc, stages, base)
    x = torch.rand(B, C, H, W)
    sd32 = {k: v.clone() for k, v in model.state_dict().items()}
    model = model.double().train()
    xd = x.double()
    recon, z = model(xd)
    loss = F.l1_loss(recon, xd)
    loss.backward()
    with h5py.File(path, "w") as f:
        for k, v in dict(H=H, W=W, C=C, stages=stages, base_channels=base, latent_channels=lc, B=B,
                         adam_steps=ADAM_STEPS).items():
            f.attrs[k] = v
        f.attrs["lr"] = LR
        put(f, "x", x)
        for k, v in sd32.items():
            put(f, "state_dict/" + k, v)
        put(f, "recon", recon)
        put(f, "z", z)
        put(f, "loss", loss.reshape(1))
        for k, p in model.named_parameters():
            put(f, "grads/" + k, p.grad)
        put(f, "adam_losses", adam_losses(model, lambda: F.l1_loss(model(xd)[0], xd)))
    print(f"{path}: loss {loss.item():.6f}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    spatial_ae_fixture(os.path.join(OUT, "spatial_ae_gray80.h5"), 1, 80, 80, 3, 8, 16, 2, 2024)
    spatial_ae_fixture(os.path.join(OUT, "spatial_ae_rgb.h5"), 3, 32, 48, 3, 4, 8, 2, 2025)
