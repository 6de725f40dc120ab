"""make_hyp_fixtures.py - the PyTorch reference of the multiple-hypothesis head (nn/dynamics.h)
on the conv dynamics (tests/nemu_modules.py ConvDynamics, hyp = M) that tests/test_hyp.c checks
nemu against. Run from the root:

    /usr/bin/python3 tests/make_hyp_fixtures.py    # writes tests/fixtures/spatial_dyn_hyp{,_cell}.h5

A 4x5x6 grid, 8 buttons, hidden 16, 2 blocks, M = 3, batch 3, a 4-step open-loop rollout with
the oracle (training) choice, in float64 from float32 weights and inputs. conv_out drawn
U(+-0.05). Per step k: target = truth_{k+1} - z_k, c = argmin_m |delta_m - target|^2,
p = softmax(plane means), z_{k+1} = z_k + delta_c, and
    loss_k = MSE(delta_c, target) + CE_W * mean_b(-log p_c) + RELAX/(M-1) * sum_{m != c} MSE(delta_m, target)
(CE_W = DYN_HYP_CE_WEIGHT, RELAX = DYN_HYP_RELAX). spatial_dyn_hyp_cell.h5, a chooser per cell
(dynamics.hyp_choice = cell): the CE is each cell's, towards the candidate nearest there, over
the cells where some candidate is at least GAP (RMS over the cell's channels) from the target,
    CE_W * mean_b mean_{p counted}(-log softmax(planes[:, p])[n_p]),  n_p = argmin_m |delta_m - target|^2 in cell p
(/roll_cell_near [K,B,h*w] holds n, -1 where the cell does not count). Datasets: /state_dict, /roll_a [K,B,A],
/roll_z [K+1,B,Z], /roll_zhat, /roll_choice [K,B], /roll_mse, /roll_loss (sums over steps),
/roll_grads.
"""
import os
import sys

try:
    import h5py
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"make_hyp_fixtures.py needs torch and h5py: {e}")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import put  # noqa: E402
from nemu_modules import ConvDynamics  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CE_W, RELAX, GAP = 0.01, 0.05, 0.1   # nn/dynamics.h


def hyp_fixture(path, per_cell=False, M=3, Lc=4, h=5, w=6, A=8, hidden=16, blocks=2, B=3, K=4, seed=91):
    torch.manual_seed(seed)
    model = ConvDynamics(Lc, h, w, A, hidden, blocks, False, M)
    with torch.no_grad():
        model.conv_out.weight.uniform_(-0.05, 0.05)
        model.conv_out.bias.uniform_(-0.05, 0.05)
    roll_a = (torch.rand(K, B, A) < 0.3).float()
    roll_z = torch.cumsum(torch.cat([torch.randn(1, B, Lc, h, w), 0.1 * torch.randn(K, B, Lc, h, w)]), 0)
    sd32 = {k: v.clone() for k, v in model.state_dict().items()}
    model = model.double()
    rad, rzd = roll_a.double(), roll_z.double()
    zt, zs, choices, nears, mse, loss = rzd[0], [], [], [], 0.0, 0.0
    for k in range(K):
        head = model(zt, rad[k])
        cand = head[:, :M * Lc].reshape(B, M, Lc, h, w)
        logits = head[:, M * Lc:].mean(dim=(2, 3))
        target = rzd[k + 1] - zt
        err = ((cand - target[:, None]) ** 2).mean(dim=(2, 3, 4))   # [B, M]
        c = err.detach().argmin(1)
        choices.append(c)
        delta = cand[torch.arange(B), c]
        m_k = F.mse_loss(delta, target)
        if per_cell:   # each cell's CE towards its nearest candidate, a mean over samples and cells
            cell_err = ((cand - target[:, None]) ** 2).sum(dim=2).reshape(B, M, h * w).detach()
            counted = cell_err.max(1).values >= GAP * GAP * Lc   # [B, P]
            near = torch.where(counted, cell_err.argmin(1), torch.full_like(counted, -1, dtype=torch.long))
            nears.append(near)
            ce_cell = F.cross_entropy(head[:, M * Lc:].reshape(B, M, h * w), near.clamp(min=0), reduction="none")
            n = counted.sum(1)
            ce = ((ce_cell * counted).sum(1) / n.clamp(min=1)).mean()
            print(f"  step {k}: cells counted per sample {n.tolist()} of {h * w}")
        else:
            ce = F.cross_entropy(logits, c)
        others = (err.sum() - err[torch.arange(B), c].sum()) / B   # mean over B of sum_{m != c} MSE
        loss = loss + m_k + CE_W * ce + RELAX / (M - 1) * others
        mse = mse + m_k
        zt = zt + delta
        zs.append(zt)
    loss.backward()
    with h5py.File(path, "w") as f:
        for k, v in dict(channels=Lc, height=h, width=w, A=A, hidden=hidden, blocks=blocks, B=B, K=K, M=M).items():
            f.attrs[k] = v
        for k, v in sd32.items():
            put(f, "state_dict/" + k, v)
        put(f, "roll_a", roll_a)
        put(f, "roll_z", roll_z)
        put(f, "roll_zhat", torch.stack(zs))
        put(f, "roll_choice", torch.stack(choices).float())
        if per_cell:
            put(f, "roll_cell_near", torch.stack(nears).float())
        put(f, "roll_mse", torch.as_tensor(mse).reshape(1))
        put(f, "roll_loss", loss.reshape(1))
        for k, p in model.named_parameters():
            put(f, "roll_grads/" + k, p.grad)
    print(f"{path}: rollout loss {loss.item():.6f}, choices {torch.stack(choices).tolist()}")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    hyp_fixture(os.path.join(OUT, "spatial_dyn_hyp.h5"))
    hyp_fixture(os.path.join(OUT, "spatial_dyn_hyp_cell.h5"), per_cell=True)
