"""torch_io.py - the PyTorch side of the checkpoint interchange tests (test_torch_checkpoint.py
for the flat models, test_spatial_torch.py for the spatial ones); the C side is tests/torch_io.h.
Import after nemutest.need("h5py", "numpy", "torch")."""
import tempfile

import h5py
import torch

from nemutest import close, run_c, summary, test_program


def exported(prog, body):
    """Runs `prog --export DIR` (a C test program) into a temp folder, then body(exe, DIR) with
    torch seeded 0; returns the exit status (summary())."""
    exe = test_program(prog)
    if not exe:
        return summary()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        if run_c(exe, "--export", d, counted=False):
            body(exe, d)
    return summary()


def read_io(path, names):
    """The datasets `names` of path as tensors."""
    with h5py.File(path, "r") as f:
        return [torch.from_numpy(f[k][...]) for k in names]


def check_ae_io(ae, path, what):
    """ae (a module in eval mode) on path's x gives its recon and z."""
    x, recon, z = read_io(path, ("x", "recon", "z"))
    with torch.no_grad():
        r_t, z_t = ae(x)
    close(f"nemu->torch {what} recon", r_t, recon)
    close(f"nemu->torch {what} z", z_t, z)


def write_io(path, **tensors):
    """Tensors as datasets of a new file path."""
    with h5py.File(path, "w") as f:
        for k, v in tensors.items():
            f[k] = v.numpy()


def import_into_nemu(exe, d):
    """`exe --import DIR`: nemu loads the torch_*.h5 of d and compares (its checks count here)."""
    run_c(exe, "--import", d)
