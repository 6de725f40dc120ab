"""make_dynamics_fixtures.py - the PyTorch reference for roadmap phase 3 that
tests/test_dynamics.c checks nn/dynamics.h against (make_model_fixtures.py style). Run from
the repository root:

    /usr/bin/python3 tests/make_dynamics_fixtures.py     # writes tests/fixtures/dyn_phase3.h5

The reference runs in float64 (weights and inputs are float32 values). Layout (float32):
  /dims attributes Z, A, hidden, B, K; beta (attribute)
  Two models: gymemu's DynamicsModel (det/) and the same with a 2Z head (vae/: first Z the
  mean, next Z the log-variance of the delta); torch init, then LayerNorm affine and the last
  bias perturbed so their gradients are non-trivial.
  <m>/state_dict/<name>
  VAE head, one step (vae/head/): x/z [B,Z], x/a [B,A], x/eps [B,Z], x/target [B,Z];
    head [B,2Z], delta = mean + exp(logvar/2) * eps [B,Z], kl = -1/2 mean(1 + lv - mu^2 - e^lv),
    loss = MSE(delta, target) + beta * kl, grads/<name>
  3-step rollout with scheduled sampling (<m>/rollout/): x/ztrue [K+1,B,Z], x/a [K,B,A],
    x/feed [K,B] (0/1 as float; row 0 unused), x/eps [K,B,Z] (vae):
      zin_0 = ztrue_0; zin_k = feed[k] ? znext_{k-1} : ztrue_k; delta_k, znext_k = zin_k + delta_k
      loss = sum_k MSE(delta_k, ztrue_{k+1} - zin_k) (+ beta * sum_k KL_k for the vae)
    mse, kl (sums over k), loss, znext [K,B,Z], grads/<name>
"""
import os
import sys

import numpy as np

try:
    import h5py
    import torch
    import torch.nn as nn
except ImportError as e:
    sys.exit(f"make_dynamics_fixtures.py needs torch and h5py: {e}")

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "dyn_phase3.h5")
Z, A, HID, B, K, BETA = 8, 4, 32, 6, 3, 0.05


def make_model(out, gen):
    net = nn.Sequential(nn.LayerNorm(Z + A), nn.Linear(Z + A, HID), nn.GELU(), nn.Linear(HID, HID), nn.GELU(),
                        nn.Linear(HID, out))
    nn.init.orthogonal_(net[1].weight)   # torch.manual_seed(15) makes it repeatable
    with torch.no_grad():
        net[0].weight.copy_(1 + 0.2 * torch.randn(Z + A, generator=gen))
        net[0].bias.copy_(0.1 * torch.randn(Z + A, generator=gen))
        net[5].bias.copy_(0.1 * torch.randn(out, generator=gen))
        for p in net.parameters():   # float32 values, computed in float64
            p.copy_(p.float())
    return net.double()


def head_step(net, vae, z, a, eps):
    h = net(torch.cat([z, a], 1))
    if not vae:
        return h, h, torch.zeros((), dtype=torch.float64)
    mu, lv = h[:, :Z], h[:, Z:]
    delta = mu + torch.exp(0.5 * lv) * eps
    kl = -0.5 * torch.mean(1 + lv - mu * mu - torch.exp(lv))
    return h, delta, kl


def put(g, name, t):
    g.create_dataset(name, data=(t.detach().numpy() if torch.is_tensor(t) else np.asarray(t)).astype(np.float32))


def grads(g, net):
    names = [n for n, _ in net.named_parameters()]
    for n, p in zip(names, net.parameters()):
        put(g, "grads/net." + n, p.grad)


def main():
    gen = torch.Generator().manual_seed(15)
    torch.manual_seed(15)
    f32 = lambda *s: torch.randn(*s, generator=gen).float().double()   # noqa: E731
    with h5py.File(OUT, "w") as f:
        for k, v in dict(Z=Z, A=A, hidden=HID, B=B, K=K).items():
            f.attrs[k] = v
        f.attrs["beta"] = BETA
        ztrue = f32(K + 1, B, Z)
        a = torch.zeros(K, B, A, dtype=torch.float64)
        idx = torch.randint(0, A, (K, B), generator=gen)
        a.scatter_(2, idx.unsqueeze(2), 1.0)
        feed = (torch.rand(K, B, generator=gen) < 0.5).double()
        feed[0] = 0
        eps = f32(K, B, Z)
        for vae in (0, 1):
            net = make_model(2 * Z if vae else Z, gen)
            g = f.create_group("vae" if vae else "det")
            for n, p in net.state_dict().items():
                put(g, "state_dict/net." + n, p)
            if vae:   # the head alone, one step
                z, target, e1 = f32(B, Z), 0.1 * f32(B, Z), f32(B, Z)
                net.zero_grad()
                h, delta, kl = head_step(net, 1, z, a[0], e1)
                mse = torch.mean((delta - target) ** 2)
                loss = mse + BETA * kl
                loss.backward()
                hg = g.create_group("head")
                for n, t in dict(z=z, a=a[0], eps=e1, target=target).items():
                    put(hg, "x/" + n, t)
                put(hg, "head", h)
                put(hg, "delta", delta)
                put(hg, "kl", kl)
                put(hg, "mse", mse)
                put(hg, "loss", loss)
                grads(hg, net)
            net.zero_grad()
            zn, mse, kls = [], 0, 0
            for k in range(K):
                zin = ztrue[0] if k == 0 else torch.where(feed[k].unsqueeze(1) > 0, zn[-1], ztrue[k])
                _, delta, kl = head_step(net, vae, zin, a[k], eps[k])
                zn.append(zin + delta)
                mse = mse + torch.mean((delta - (ztrue[k + 1] - zin)) ** 2)
                kls = kls + kl
            loss = mse + BETA * kls if vae else mse
            loss.backward()
            rg = g.create_group("rollout")
            for n, t in dict(ztrue=ztrue, a=a, feed=feed, eps=eps).items():
                put(rg, "x/" + n, t)
            put(rg, "mse", mse)
            put(rg, "kl", kls)
            put(rg, "loss", loss)
            put(rg, "znext", torch.stack(zn))
            grads(rg, net)
            print(f"{'vae' if vae else 'det'}: rollout loss {loss.item():.6f} (mse {float(mse):.6f}, kl {float(kls):.6f}), "
                  f"fed back {int(feed.sum())} of {(K - 1) * B}")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
