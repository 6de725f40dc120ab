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
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemutest import need  # noqa: E402

need("h5py", "numpy", "torch")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from gymemu_models import (ConvAutoencoder, DynamicsModel, load_state_dict_h5,  # noqa: E402
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


def ae_from_attrs(attrs):
    return ConvAutoencoder(int(attrs["channels"]), int(attrs["height"]), int(attrs["width"]),
                           int(attrs["latent_dim"]), int(attrs["stages"]), int(attrs["base_channels"]))


def main():
    global failed
    nemu_bin = os.environ.get("NEMU_BIN")
    root = os.environ.get("NEMU_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    tests_dir = (os.path.join(os.path.dirname(nemu_bin), "tests") if nemu_bin
                 else os.path.join(root, "build", "release", "tests"))
    exe = os.path.join(tests_dir, "test_checkpoint")
    if not os.access(exe, os.X_OK):
        print(f"FAIL {exe} not built")
        print("0 passed, 1 failed")
        return 1
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as d:
        # 1. nemu -> PyTorch
        r = subprocess.run([exe, "--export", d], capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            print("FAIL test_checkpoint --export")
            print("0 passed, 1 failed")
            return 1
        with h5py.File(os.path.join(d, "nemu_ae.h5"), "r") as f:
            assert f.attrs["format"] == "nemu-checkpoint" and f.attrs["model"] == "autoencoder"
            ae = ae_from_attrs(f.attrs)
        load_state_dict_h5(os.path.join(d, "nemu_ae.h5"), ae).eval()
        with h5py.File(os.path.join(d, "nemu_ae_io.h5"), "r") as f:
            x, recon, z = (torch.from_numpy(f[k][...]) for k in ("x", "recon", "z"))
        with torch.no_grad():
            r_t, z_t = ae(x)
        check("nemu->torch autoencoder recon", r_t, recon)
        check("nemu->torch autoencoder z", z_t, z)
        with h5py.File(os.path.join(d, "nemu_dyn.h5"), "r") as f:
            dyn = DynamicsModel(int(f.attrs["latent_dim"]), int(f.attrs["n_actions"]), int(f.attrs["hidden"]))
            has_opt = "optimizer/exp_avg/net.1.weight" in f and "optimizer/exp_avg_sq/net.1.weight" in f
        load_state_dict_h5(os.path.join(d, "nemu_dyn.h5"), dyn).eval()
        check("nemu checkpoint has Adam state", 0.0 if has_opt else 1.0, 0.0, 0.0)
        with h5py.File(os.path.join(d, "nemu_dyn_io.h5"), "r") as f:
            z, a, delta = (torch.from_numpy(f[k][...]) for k in ("z", "a", "delta"))
        with torch.no_grad():
            delta_t = dyn(torch.cat([z, a], 1))
        check("nemu->torch dynamics delta", delta_t, delta)

        # 2. PyTorch -> nemu (gymemu-sized autoencoder at 40x40 to stay small, 3 stages)
        ae = ConvAutoencoder(1, 40, 48, 32, 3, 16).eval()
        save_state_dict_h5(os.path.join(d, "torch_ae.h5"), ae, "autoencoder",
                           dict(height=40, width=48, channels=1, stages=3, base_channels=16, latent_dim=32))
        x = torch.rand(3, 1, 40, 48)
        with torch.no_grad():
            recon, z = ae(x)
        with h5py.File(os.path.join(d, "torch_ae_io.h5"), "w") as f:
            f["x"], f["recon"], f["z"] = x.numpy(), recon.numpy(), z.numpy()
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
        with h5py.File(os.path.join(d, "torch_dyn_io.h5"), "w") as f:
            f["z"], f["a"], f["delta"] = z.numpy(), a.numpy(), delta.numpy()
        r = subprocess.run([exe, "--import", d], capture_output=True, text=True)
        print("\n".join("  | " + ln for ln in r.stdout.splitlines()))
        if r.returncode != 0:
            print(r.stderr)
            print("FAIL test_checkpoint --import")
            failed += 1
        else:
            passed_c = [ln for ln in r.stdout.splitlines() if ln.endswith(" failed")]
            globals()["passed"] += int(passed_c[-1].split()[0]) if passed_c else 0
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
