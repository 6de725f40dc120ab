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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemutest import close, need  # noqa: E402

need("h5py", "numpy", "torch")
import torch  # noqa: E402
from nemu_modules import (ConvDynamics, SpatialAutoencoder, model_from_checkpoint,  # noqa: E402
                          save_state_dict_h5)
from torch_io import check_ae_io, exported, import_into_nemu, read_io, write_io  # noqa: E402


def body(exe, d):
    ae = model_from_checkpoint(os.path.join(d, "spatial_ae.h5")).eval()
    close("model_from_checkpoint is spatial", 0.0 if isinstance(ae, SpatialAutoencoder) else 1.0, 0.0, 0.0)
    check_ae_io(ae, os.path.join(d, "spatial_ae_io.h5"), "spatial")
    dyn = model_from_checkpoint(os.path.join(d, "spatial_dyn.h5")).eval()
    close("model_from_checkpoint is conv dynamics", 0.0 if isinstance(dyn, ConvDynamics) else 1.0, 0.0, 0.0)
    z, a, delta = read_io(os.path.join(d, "spatial_dyn_io.h5"), ("z", "a", "delta"))
    with torch.no_grad():
        close("nemu->torch conv dynamics delta", dyn(z, a), delta)

    ae = SpatialAutoencoder(1, 40, 48, 8, 3, 8).eval()
    save_state_dict_h5(os.path.join(d, "torch_spatial_ae.h5"), ae, "autoencoder",
                       dict(height=40, width=48, channels=1, stages=3, base_channels=8,
                            latent_dim=8 * 5 * 6, latent="spatial", latent_channels=8))
    x = torch.rand(3, 1, 40, 48)
    with torch.no_grad():
        recon, z = ae(x)
    write_io(os.path.join(d, "torch_spatial_ae_io.h5"), x=x, recon=recon, z=z)
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
    write_io(os.path.join(d, "torch_spatial_dyn_io.h5"), z=z, a=a, head=head)
    import_into_nemu(exe, d)


if __name__ == "__main__":
    sys.exit(exported("test_spatial", body))
