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
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemutest import need  # noqa: E402

need("h5py", "numpy", "torch")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from nemu_modules import (ConvDynamics, SpatialAutoencoder, model_from_checkpoint,  # noqa: E402
                          save_state_dict_h5)

passed = failed = 0


def check(name, got, want, tol=1e-5):
    global passed, failed
    d = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64))))
    ok = d <= tol
    print(f"  {name:40s} max_abs={d:.3g} {'ok' if ok else 'FAIL'}")
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: max abs diff {d:.3g} > {tol}")


def main():
    global passed, failed
    nemu_bin = os.environ.get("NEMU_BIN")
    root = os.environ.get("NEMU_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tests_dir = (os.path.join(os.path.dirname(nemu_bin), "tests") if nemu_bin
                 else os.path.join(root, "build", "release", "tests"))
    exe = os.path.join(tests_dir, "test_spatial")
    if not os.access(exe, os.X_OK):
        print(f"FAIL {exe} not built")
        print("0 passed, 1 failed")
        return 1
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run([exe, "--export", d], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            print("FAIL test_spatial --export")
            print("0 passed, 1 failed")
            return 1
        ae = model_from_checkpoint(os.path.join(d, "spatial_ae.h5")).eval()
        check("model_from_checkpoint is spatial", 0.0 if isinstance(ae, SpatialAutoencoder) else 1.0, 0.0, 0.0)
        with h5py.File(os.path.join(d, "spatial_ae_io.h5"), "r") as f:
            x, recon, z = (torch.from_numpy(f[k][...]) for k in ("x", "recon", "z"))
        with torch.no_grad():
            r_t, z_t = ae(x)
        check("nemu->torch spatial recon", r_t, recon)
        check("nemu->torch spatial z", z_t, z)
        dyn = model_from_checkpoint(os.path.join(d, "spatial_dyn.h5")).eval()
        check("model_from_checkpoint is conv dynamics", 0.0 if isinstance(dyn, ConvDynamics) else 1.0, 0.0, 0.0)
        with h5py.File(os.path.join(d, "spatial_dyn_io.h5"), "r") as f:
            z, a, delta = (torch.from_numpy(f[k][...]) for k in ("z", "a", "delta"))
        with torch.no_grad():
            check("nemu->torch conv dynamics delta", dyn(z, a), delta)

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
        r = subprocess.run([exe, "--import", d], capture_output=True, text=True)
        print("\n".join("  | " + ln for ln in r.stdout.splitlines()))
        if r.returncode != 0:
            print(r.stderr)
            print("FAIL test_spatial --import")
            failed += 1
        else:
            last = [ln for ln in r.stdout.splitlines() if ln.endswith(" failed")]
            passed += int(last[-1].split()[0]) if last else 0
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
