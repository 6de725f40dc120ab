#!/usr/bin/env python3
"""state_dict_h5.py - writes a PyTorch model's weights as a weights-only HDF5 file that
`./train --init FILE` loads (issue #16 class 11): /state_dict/<name> float32 datasets, named
and shaped as the module's state_dict, and nothing else (no optimizer, no nemu attributes).

    tools/state_dict_h5.py ae --height 80 --width 80 --latent-dim 32 --out ae_w.h5
    tools/state_dict_h5.py spatial_ae --latent-channels 16 --out sp_w.h5
    tools/state_dict_h5.py dyn --latent-dim 32 --hidden 128 --out dyn_w.h5
    tools/state_dict_h5.py conv_dyn --latent-channels 16 --grid 10 10 --hidden 64 --blocks 2 --out cd_w.h5

The modules are gymemu's (tests/gymemu_models.py) and the spatial family's
(tests/nemu_modules.py), initialised by PyTorch from --seed. To export your own trained
module instead: write_state_dict(module, path). Needs /usr/bin/python3 with torch and h5py.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))


def write_state_dict(module, path):
    """module.state_dict() as /state_dict/<name> float32 datasets, nothing else."""
    import h5py
    with h5py.File(path, "w") as f:
        for k, v in module.state_dict().items():
            f.create_dataset("state_dict/" + k, data=v.detach().cpu().float().numpy())


def build(a):
    import torch
    from nemu_modules import ConvAutoencoder, ConvDynamics, DynamicsModel, SpatialAutoencoder
    torch.manual_seed(a.seed)
    if a.model == "ae":
        return ConvAutoencoder(a.channels, a.height, a.width, a.latent_dim, a.stages, a.base)
    if a.model == "spatial_ae":
        return SpatialAutoencoder(a.channels, a.height, a.width, a.latent_channels, a.stages, a.base)
    if a.model == "dyn":
        return DynamicsModel(a.latent_dim, a.actions, a.hidden)
    return ConvDynamics(a.latent_channels, a.grid[0], a.grid[1], a.actions, a.hidden, a.blocks, a.vae)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", choices=["ae", "spatial_ae", "dyn", "conv_dyn"])
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--channels", type=int, default=1)
    p.add_argument("--height", type=int, default=80)
    p.add_argument("--width", type=int, default=80)
    p.add_argument("--stages", type=int, default=3)
    p.add_argument("--base", type=int, default=32, help="model.base_channels")
    p.add_argument("--latent-dim", type=int, default=32)
    p.add_argument("--latent-channels", type=int, default=16)
    p.add_argument("--actions", type=int, default=8)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--grid", type=int, nargs=2, default=[10, 10], metavar=("H", "W"))
    p.add_argument("--vae", action="store_true")
    a = p.parse_args()
    write_state_dict(build(a), a.out)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
