"""test_torch_checkpoint.py - nemu checkpoints and PyTorch state_dicts are interchangeable.

1. nemu -> PyTorch: `test_checkpoint --export DIR` writes nemu checkpoints of an autoencoder
   and a dynamics model with an input and nemu's outputs; the gymemu modules
   (tests/gymemu_models.py) load /state_dict with a few lines of h5py and must give the same
   outputs.
2. PyTorch -> nemu: freshly initialised gymemu modules are saved in the same layout
   (torch_*.h5) with an input and PyTorch's outputs; `test_checkpoint --import DIR` loads them
   into nemu and compares (its own "N passed, N failed" line).
Skips (skipped: needs ...) when torch, h5py or numpy is missing.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemutest import close, need  # noqa: E402

need("h5py", "numpy", "torch")
import h5py  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from gymemu_models import (ConvAutoencoder, DynamicsModel, load_state_dict_h5,  # noqa: E402
                           save_state_dict_h5)
from torch_io import check_ae_io, exported, import_into_nemu, read_io, write_io  # noqa: E402

def ae_from_attrs(attrs):
    return ConvAutoencoder(int(attrs["channels"]), int(attrs["height"]), int(attrs["width"]),
                           int(attrs["latent_dim"]), int(attrs["stages"]), int(attrs["base_channels"]))


def body(exe, d):
    # 1. nemu -> PyTorch
    with h5py.File(os.path.join(d, "nemu_ae.h5"), "r") as f:
        assert f.attrs["format"] == "nemu-checkpoint" and f.attrs["model"] == "autoencoder"
        ae = ae_from_attrs(f.attrs)
    load_state_dict_h5(os.path.join(d, "nemu_ae.h5"), ae).eval()
    check_ae_io(ae, os.path.join(d, "nemu_ae_io.h5"), "autoencoder")
    with h5py.File(os.path.join(d, "nemu_dyn.h5"), "r") as f:
        dyn = DynamicsModel(int(f.attrs["latent_dim"]), int(f.attrs["n_actions"]), int(f.attrs["hidden"]))
        has_opt = "optimizer/exp_avg/net.1.weight" in f and "optimizer/exp_avg_sq/net.1.weight" in f
    load_state_dict_h5(os.path.join(d, "nemu_dyn.h5"), dyn).eval()
    close("nemu checkpoint has Adam state", 0.0 if has_opt else 1.0, 0.0, 0.0)
    z, a, delta = read_io(os.path.join(d, "nemu_dyn_io.h5"), ("z", "a", "delta"))
    with torch.no_grad():
        delta_t = dyn(torch.cat([z, a], 1))
    close("nemu->torch dynamics delta", delta_t, delta)

    # 2. PyTorch -> nemu (gymemu-sized autoencoder at 40x40 to stay small, 3 stages)
    ae = ConvAutoencoder(1, 40, 48, 32, 3, 16).eval()
    save_state_dict_h5(os.path.join(d, "torch_ae.h5"), ae, "autoencoder",
                       dict(height=40, width=48, channels=1, stages=3, base_channels=16, latent_dim=32))
    x = torch.rand(3, 1, 40, 48)
    with torch.no_grad():
        recon, z = ae(x)
    write_io(os.path.join(d, "torch_ae_io.h5"), x=x, recon=recon, z=z)
    dyn = DynamicsModel(32, 9, 128)
    with torch.no_grad():
        for p in dyn.parameters():
            p.add_(0.05 * torch.randn_like(p))
    save_state_dict_h5(os.path.join(d, "torch_dyn.h5"), dyn, "dynamics",
                       dict(latent_dim=32, n_actions=9, hidden=128))
    z = torch.randn(5, 32)
    a = F.one_hot(torch.randint(0, 9, (5,)), 9).float()
    with torch.no_grad():
        delta = dyn(torch.cat([z, a], 1))
    write_io(os.path.join(d, "torch_dyn_io.h5"), z=z, a=a, delta=delta)
    import_into_nemu(exe, d)


if __name__ == "__main__":
    sys.exit(exported("test_checkpoint", body))
