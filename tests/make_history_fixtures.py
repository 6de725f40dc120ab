"""make_history_fixtures.py - the PyTorch reference of the conv dynamics with a history
(dynamics.history, tests/nemu_modules.py ConvDynamics(history=N)) that tests/test_history.c
checks nemu against. Run from the root:

    /usr/bin/python3 tests/make_history_fixtures.py    # writes tests/fixtures/history_dyn.h5

In float64 from float32 weights and inputs. ConvDynamics on a 3x4x5 grid, 5 buttons, hidden 8,
2 blocks, history N = 3, batch 2; torch init, then conv_out drawn U(+-0.05).
  One step: /z /hist [B,N,Lc,h,w] /a /target, /delta, /loss = MSE(delta, target), /grads/<name>,
  /dz = dLoss/dz with the history held (the history is an input: no gradient reaches it).
  A 5-step open-loop rollout: /roll_z [K+1,B,Z] (truth; z_0 starts it), /roll_hist [B,N,Z] the
  latents before z_0, /roll_a [K,B,A]; step k sees the N latents before its input (its own
  earlier inputs, then roll_hist), detached; /roll_zhat, /roll_loss = sum_k MSE(z_{k+1},
  truth_{k+1}), /roll_grads/<name>.
"""
import os
import sys

try:
    import h5py
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"make_history_fixtures.py needs torch and h5py: {e}")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import put, put_all  # noqa: E402
from nemu_modules import ConvDynamics  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def history_fixture(path, Lc=3, h=4, w=5, A=5, hidden=8, blocks=2, N=3, B=2, K=5, seed=91):
    torch.manual_seed(seed)
    model = ConvDynamics(Lc, h, w, A, hidden, blocks, history=N)
    with torch.no_grad():
        model.conv_out.weight.uniform_(-0.05, 0.05)
        model.conv_out.bias.uniform_(-0.05, 0.05)
    z = torch.randn(B, Lc, h, w)
    hist = z[:, None] + 0.3 * torch.randn(B, N, Lc, h, w)
    a = (torch.rand(B, A) < 0.4).float()
    target = 0.1 * torch.randn(B, Lc, h, w)
    roll_a = (torch.rand(K, B, A) < 0.4).float()
    roll_z = torch.cumsum(torch.cat([torch.randn(1, B, Lc, h, w), 0.1 * torch.randn(K, B, Lc, h, w)]), 0)
    roll_hist = roll_z[0][:, None] + 0.2 * torch.randn(B, N, Lc, h, w)
    sd32 = {k: v.clone() for k, v in model.state_dict().items()}
    model = model.double()
    zd = z.double().requires_grad_(True)
    with h5py.File(path, "w") as f:
        for k, v in dict(channels=Lc, height=h, width=w, A=A, hidden=hidden, blocks=blocks, history=N, B=B,
                         K=K).items():
            f.attrs[k] = v
        for k, v in sd32.items():
            put(f, "state_dict/" + k, v)
        delta = model(zd, a.double(), hist.double())
        loss = F.mse_loss(delta, target.double())
        loss.backward()
        put_all(f, "", z=z, hist=hist, a=a, target=target, delta=delta, loss=loss.reshape(1), dz=zd.grad)
        put_all(f, "grads/", **{k: p.grad for k, p in model.named_parameters()})
        model.zero_grad()
        past = [roll_hist.double()[:, k] for k in range(N)]   # newest first
        zt, zs = roll_z.double()[0], []
        for k in range(K):
            hk = torch.stack(past[:N], 1).detach()
            past.insert(0, zt)
            zt = zt + model(zt, roll_a.double()[k], hk)
            zs.append(zt)
        roll_loss = sum(F.mse_loss(zs[k], roll_z.double()[k + 1]) for k in range(K))
        roll_loss.backward()
        put_all(f, "", roll_z=roll_z, roll_hist=roll_hist, roll_a=roll_a, roll_zhat=torch.stack(zs),
                roll_loss=roll_loss.reshape(1))
        put_all(f, "roll_grads/", **{k: p.grad for k, p in model.named_parameters()})
    print(f"{path}: step loss {loss.item():.6f}, rollout loss {roll_loss.item():.6f}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    history_fixture(os.path.join(OUT, "history_dyn.h5"))
