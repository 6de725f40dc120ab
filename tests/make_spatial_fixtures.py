"""make_spatial_fixtures.py - PyTorch reference fixtures of the spatial model family
(tests/nemu_modules.py) that tests/test_spatial.c checks nemu against. Run from the root:

    /usr/bin/python3 tests/make_spatial_fixtures.py    # writes tests/fixtures/spatial_*.h5

As in make_model_fixtures.py the reference runs in float64 from float32 weights and inputs.
Files (float32 datasets; attributes give the sizes):
  spatial_ae_gray80.h5  SpatialAutoencoder 80x80x1, 3 stages, base 8, latent 16x10x10, batch 2
  spatial_ae_rgb.h5     32x48x3 (non-square RGB), 3 stages, base 4, latent 8x4x6, batch 2
Each: /x, /state_dict/<name> (torch init), /recon, /z, /loss (L1), /grads/<name>, and
/adam_losses: the loss before each of 10 torch.optim.Adam(lr=1e-3) steps on the same batch.
  spatial_dyn.h5        ConvDynamics on a 4x5x6 grid, 8 buttons, hidden 16, 2 blocks, batch 3;
                        torch init, then conv_out drawn U(+-0.05) (zero-init would stop every
                        gradient below it). One step: /z /a /target, /delta, /loss = MSE(delta,
                        target), /grads, /adam_losses. A 5-step open-loop rollout (BPTT):
                        /roll_a [K,B,A], /roll_z [K+1,B,Z] (truth), /roll_zhat, /roll_loss =
                        sum over steps of MSE(z_{k+1}, truth_{k+1}), /roll_grads.
  spatial_dyn_vae.h5    the same with a VAE head (2Lc channels: mean, log-variance): a 5-step
                        rollout with fed /eps [K,B,Z]: delta = mean + exp(logvar/2) * eps, loss
                        = sum_k MSE + beta * sum_k KL_k, KL_k = -1/2 mean(1 + lv - mu^2 - e^lv);
                        /roll_loss, /roll_kl, /roll_grads; attribute beta.
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
from make_model_fixtures import ADAM_STEPS, LR, adam_losses, ae_fixture_file, put, put_all  # noqa: E402
from nemu_modules import ConvDynamics, SpatialAutoencoder  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def spatial_ae_fixture(path, C, H, W, stages, base, lc, B, seed):
    torch.manual_seed(seed)
    model = SpatialAutoencoder(C, H, W, lc, stages, base)
    x = torch.rand(B, C, H, W)
    loss = ae_fixture_file(path, model, x, dict(H=H, W=W, C=C, stages=stages, base_channels=base, latent_channels=lc,
                                                B=B, adam_steps=ADAM_STEPS), True,
                           lambda f, k, g: put(f, "grads/" + k, g))
    print(f"{path}: loss {loss.item():.6f}, {os.path.getsize(path)} bytes")


def spatial_dyn_fixture(path, vae, Lc=4, h=5, w=6, A=8, hidden=16, blocks=2, B=3, K=5, beta=0.1, seed=77):
    torch.manual_seed(seed)
    model = ConvDynamics(Lc, h, w, A, hidden, blocks, vae)
    with torch.no_grad():
        model.conv_out.weight.uniform_(-0.05, 0.05)
        model.conv_out.bias.uniform_(-0.05, 0.05)
    Z = Lc * h * w
    z = torch.randn(B, Lc, h, w)
    a = (torch.rand(B, A) < 0.3).float()
    target = 0.1 * torch.randn(B, Lc, h, w)
    roll_a = (torch.rand(K, B, A) < 0.3).float()
    roll_z = torch.cumsum(torch.cat([torch.randn(1, B, Lc, h, w), 0.1 * torch.randn(K, B, Lc, h, w)]), 0)
    eps = torch.randn(K, B, Lc, h, w)
    sd32 = {k: v.clone() for k, v in model.state_dict().items()}
    model = model.double()
    zd, ad, td, rad, rzd, ed = (t.double() for t in (z, a, target, roll_a, roll_z, eps))

    def step_loss():
        return F.mse_loss(model(zd, ad), td)

    def rollout():
        zs, zt, kl = [], rzd[0], 0.0
        for k in range(K):
            head = model(zt, rad[k])
            if vae:
                mu, lv = head[:, :Lc], head[:, Lc:]
                zt = zt + mu + torch.exp(0.5 * lv) * ed[k]
                kl = kl + (-0.5 * torch.mean(1 + lv - mu * mu - torch.exp(lv)))
            else:
                zt = zt + head
            zs.append(zt)
        mse = sum(F.mse_loss(zs[k], rzd[k + 1]) for k in range(K))
        return torch.stack(zs), mse, kl

    with h5py.File(path, "w") as f:
        for k, v in dict(channels=Lc, height=h, width=w, A=A, hidden=hidden, blocks=blocks, B=B, K=K,
                         vae=int(vae), adam_steps=ADAM_STEPS).items():
            f.attrs[k] = v
        f.attrs["lr"] = LR
        f.attrs["beta"] = beta
        for k, v in sd32.items():
            put(f, "state_dict/" + k, v)
        if not vae:
            delta = model(zd, ad)
            loss = F.mse_loss(delta, td)
            loss.backward()
            put_all(f, "", z=z, a=a, target=target, delta=delta, loss=loss.reshape(1))
            put_all(f, "grads/", **{k: p.grad for k, p in model.named_parameters()})
            model.zero_grad()
        zhat, mse, kl = rollout()
        roll_loss = mse + beta * kl if vae else mse
        roll_loss.backward()
        put_all(f, "", roll_a=roll_a, roll_z=roll_z, eps=eps, roll_zhat=zhat, roll_loss=roll_loss.reshape(1),
                roll_kl=torch.as_tensor(kl).reshape(1))
        put_all(f, "roll_grads/", **{k: p.grad for k, p in model.named_parameters()})
        if not vae:
            put(f, "adam_losses", adam_losses(model, step_loss))
    print(f"{path}: rollout loss {roll_loss.item():.6f}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    spatial_ae_fixture(os.path.join(OUT, "spatial_ae_gray80.h5"), 1, 80, 80, 3, 8, 16, 2, 2024)
    spatial_ae_fixture(os.path.join(OUT, "spatial_ae_rgb.h5"), 3, 32, 48, 3, 4, 8, 2, 2025)
    spatial_dyn_fixture(os.path.join(OUT, "spatial_dyn.h5"), False)
    spatial_dyn_fixture(os.path.join(OUT, "spatial_dyn_vae.h5"), True)
