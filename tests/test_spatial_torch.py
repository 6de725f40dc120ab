"""test_spatial_torch.py - spatial-family checkpoints and PyTorch modules are interchangeable.

1. nemu -> PyTorch: `test_spatial --export DIR` writes a spatial autoencoder and a conv dynamics
   checkpoint with inputs and outputs; nemu_modules.model_from_checkpoint builds and loads the module and must
   give the same outputs.
2. PyTorch -> nemu: a freshly initialised SpatialAutoencoder and a ConvDynamics with a VAE head
   (conv_out off zero) saved in nemu's layout with an
   input and PyTorch's outputs; `test_spatial --import DIR` loads it and compares.
Skips (0 passed, 0 failed) when torch, h5py or numpy is missing.
"""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemutest import close, need, run_c, summary, test_program  # noqa: E402

need("h5py", "numpy", "torch")
import h5py  # noqa: E402
import torch  # noqa: E402
from nemu_modules import (ConvDynamics, SpatialAutoencoder, model_from_checkpoint,  # noqa: E402
                          save_state_dict_h5)

def main():
    exe = test_program("test_spatial")
    if not exe:
        return summary()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        if not run_c(exe, "--export", d, counted=False):
            return summary()
        ae = model_from_checkpoint(os.path.join(d, "spatial_ae.h5")).eval()
        close("model_from_checkpoint is spatial", 0.0 if isinstance(ae, SpatialAutoencoder) else 1.0, 0.0, 0.0)
        with h5py.File(os.path.join(d, "spatial_ae_io.h5"), "r") as f:
            x, recon, z = (torch.from_numpy(f[k][...]) for k in ("x", "recon", "z"))
        with torch.no_grad():
            r_t, z_t = ae(x)
        close("nemu->torch spatial recon", r_t, recon)
        close("nemu->torch spatial z", z_t, z)
        dyn = model_from_checkpoint(os.path.join(d, "spatial_dyn.h5")).eval()
        close("model_from_checkpoint is conv dynamics", 0.0 if isinstance(dyn, ConvDynamics) else 1.0, 0.0, 0.0)
        with h5py.File(os.path.join(d, "spatial_dyn_io.h5"), "r") as f:
            z, a, delta = (torch.from_numpy(f[k][...]) for k in ("z", "a", "delta"))
        with torch.no_grad():
            close("nemu->torch conv dynamics delta", dyn(z, a), delta)

        ae = SpatialAutoencoder(1, 40, 48, 8, 3, 8).eval()
        save_state_dict_h5(os.path.join(d, "torch_spatial_ae.h5"), ae, "autoencoder",
                           dict(height=40, width=48, channels=1, stages=3, base_channels=8,
                                latent_dim=8 * 5 * 6, latent="spatial", latent_channels=8))
        x = torch.rand(3, 1, 40, 48)
        with torch.no_grad():
            recon, z = ae(x)
        with h5py.File(os.path.join(d, "torch_spatial_ae_io.h5"), "w") as f:
            f["x"], f["recon"], f["z"] = x.numpy(), recon.numpy(), z.numpy()
        dyn = ConvDynamics(8, 5, 6, 8, 16, 2, vae=True).eval()
        with torch.no_grad():
            dyn.conv_out.weight.uniform_(-0.1, 0.1)
            dyn.conv_out.bias.uniform_(-0.1, 0.1)
        save_state_dict_h5(os.path.join(d, "torch_spatial_dyn.h5"), dyn, "dynamics",
                           dict(family="conv", latent_dim=8 * 5 * 6, latent_channels=8, grid_height=5,
                                grid_width=6, n_actions=8, hidden=16, blocks=2, vae=1))
        z = torch.randn(2, 8, 5, 6)
        a = (torch.rand(2, 8) < 0.4).float()
        with torch.no_grad():
            head = dyn(z, a)
        with h5py.File(os.path.join(d, "torch_spatial_dyn_io.h5"), "w") as f:
            f["z"], f["a"], f["head"] = z.numpy(), a.numpy(), head.numpy()
        run_c(exe, "--import", d)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
