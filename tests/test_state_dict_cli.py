#!/usr/bin/env python3
"""test_state_dict_cli.py - PyTorch -> nemu -> PyTorch with weights-only files (issue #16
class 11): tools/state_dict_h5.py writes a module's state_dict as /state_dict/<name> and
nothing else; `./train --init FILE` starts from it (0 epochs: the checkpoint it writes must
hold the very same tensors, loaded back into the module strictly; 1 epoch: it trains and
PyTorch still loads the result), for all four models: gymemu's flat autoencoder and dynamics,
the spatial autoencoder and the conv dynamics. A file for other shapes is refused before any
file, naming the tensor, the shape expected and the shape found."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from nemutest import BIN, check, need, run_in_tempdir  # noqa: E402

need("torch", "h5py", "numpy")
import torch  # noqa: E402
from nemu_modules import (ConvAutoencoder, ConvDynamics, DynamicsModel, SpatialAutoencoder,  # noqa: E402
                          load_state_dict_h5)
from state_dict_h5 import write_state_dict  # noqa: E402

def config(tmp, name, latent, stage, epochs, ae=None):
    """A tiny config: the autoencoder stage, or the dynamics stage on the autoencoder at `ae`."""
    flat = latent == "flat"
    lines = ["[run]", "seed = 5", "threads = 1", "[data]", "path = d.h5", "generate = none", "height = 32",
             "width = 32", "test_episodes = 1", "[model]", "latent = " + latent]
    if stage == "autoencoder":
        lines += ["latent_dim = 8" if flat else "latent_channels = 2", "base_channels = 4",
                  "[train]", "stage = autoencoder", "batch_size = 16", "epochs = %d" % epochs]
    else:
        lines += ["autoencoder = " + ae, "[train]", "stage = dynamics", "batch_size = 16",
                  "[dynamics]", "hidden = 8", "epochs = %d" % epochs] + ([] if flat else ["blocks = 1"])
    path = os.path.join(tmp, name + ".ini")
    open(path, "w").write("\n".join(lines) + "\n")
    return path


def train(tmp, args):
    return subprocess.run([os.path.join(BIN, "train")] + args, cwd=tmp, capture_output=True, text=True, timeout=300)


def same(module, path):
    """Whether path's /state_dict loads strictly into a copy of module with equal tensors."""
    import copy
    other = copy.deepcopy(module)
    for p in other.parameters():
        p.data.add_(1.0)
    load_state_dict_h5(path, other)
    a, b = module.state_dict(), other.state_dict()
    return all(torch.equal(a[k], b[k]) for k in a)


def round_trip(tmp, label, module, latent, stage, ae=None):
    w = os.path.join(tmp, label + "_w.h5")
    write_state_dict(module, w)
    cfg = config(tmp, label, latent, stage, 0, ae)
    r = train(tmp, [cfg, "--init", w])
    prefix = "ae" if stage == "autoencoder" else "dyn"
    out = os.path.join(tmp, "runs", label, prefix + "_best.h5")
    check(r.returncode == 0, "%s: --init with 0 epochs: %s" % (label, r.stderr[-300:]))
    check(r.returncode == 0 and same(module, out), "%s: PyTorch -> nemu -> PyTorch gives the same tensors" % label)
    cfg1 = config(tmp, label + "_1", latent, stage, 1, ae)
    r = train(tmp, [cfg1, "--init", w])
    out1 = os.path.join(tmp, "runs", label + "_1", prefix + "_best.h5")
    check(r.returncode == 0, "%s: --init then one epoch: %s" % (label, r.stderr[-300:]))
    if r.returncode == 0:
        import copy
        m = copy.deepcopy(module)
        load_state_dict_h5(out1, m)   # strict: every name and shape
        check(not same(module, out1), "%s: one epoch from --init changes the weights" % label)


def body(tmp):
    g = subprocess.run([os.path.join(BIN, "gen"), "tetris", "--episodes", "5", "--steps", "30", "--seed", "2", "--out",
                        "d.h5"], cwd=tmp, capture_output=True, text=True)
    check(g.returncode == 0, "gen: " + g.stderr)
    torch.manual_seed(3)
    round_trip(tmp, "flat_ae", ConvAutoencoder(1, 32, 32, 8, 3, 4), "flat", "autoencoder")
    round_trip(tmp, "sp_ae", SpatialAutoencoder(1, 32, 32, 2, 3, 4), "spatial", "autoencoder")
    round_trip(tmp, "flat_dyn", DynamicsModel(8, 8, 8), "flat", "dynamics", "runs/flat_ae/ae_best.h5")
    cd = ConvDynamics(2, 4, 4, 8, 8, 1)
    for p in cd.conv_out.parameters():   # not the zero init: a round trip of zeros proves little
        p.data.normal_()
    round_trip(tmp, "conv_dyn", cd, "spatial", "dynamics", "runs/sp_ae/ae_best.h5")
    # other shapes: refused before any file, naming tensor, expected and found
    w = os.path.join(tmp, "big_w.h5")
    write_state_dict(ConvAutoencoder(1, 32, 32, 16, 3, 4), w)
    r = train(tmp, [config(tmp, "big", "flat", "autoencoder", 1), "--init", w])
    check(r.returncode != 0 and r.stderr.count("\n") == 1 and
          "--init %s: tensor '/state_dict/fc_enc.weight': expected shape [8,256], found [16,256]" % w in r.stderr,
          "a weights file of other shapes is named in one line: " + r.stderr)
    check(not os.path.exists(os.path.join(tmp, "runs", "big")), "and no run folder is made")


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_state_dict_"))
