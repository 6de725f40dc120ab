"""make_model_fixtures.py - writes the PyTorch reference fixtures tests/test_model.c checks
nemu's models against (STYLE.md practice 7). Run from the repository root:

    /usr/bin/python3 tests/make_model_fixtures.py      # writes tests/fixtures/model_*.h5

The reference runs in float64 (weights and inputs are float32 values), so its numbers are
more precise than nemu's float32 ones and the printed differences are nemu's error.
Files (all float32 datasets):
  model_ae_gray80.h5  gymemu's autoencoder: 80x80x1, 3 stages, base 32, latent 32, batch 2.
                      Its weights (4.6 MB) are NOT stored: every tensor and the input come from
                      splitmix_uniform() below, which tests/test_model.c reproduces bit for bit.
                      Gradients of tensors over 8192 floats are stored subsampled (every 61st
                      element, /grads_sub) plus their L2 norm (/grads_norm).
  model_ae_rgb.h5     32x48x3 (non-square RGB), 4 stages, base 4, latent 16, batch 2; torch init.
  model_dyn.h5        dynamics Z=32 A=8 hidden 128, batch 4; torch init (orthogonal net.1.weight);
                      plus a 3-step rollout with BPTT: z_{t+1} = z_t + f(z_t, a_t),
                      loss = mean over steps of MSE(z_{t+1}, true z_{t+1}).
Each has /x (inputs), outputs, /loss, /grads/<name>, and /adam_losses: the loss before each
of 10 torch.optim.Adam(lr=1e-3) steps on the same batch (the dynamics file also stores
/adam_final/<name>, the weights after the 10 steps).
"""
import os
import sys

import numpy as np

try:
    import h5py
    import torch
    import torch.nn.functional as F
except ImportError as e:
    sys.exit(f"make_model_fixtures.py needs torch and h5py: {e}")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gymemu_models import ConvAutoencoder, DynamicsModel  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
ADAM_STEPS, LR = 10, 1e-3
SUB_MIN, SUB_STRIDE = 8192, 61   # gray80: gradients with more floats are stored subsampled
M64 = (1 << 64) - 1


def splitmix_uniform(tensor_id, n):
    """u[i] = (splitmix64((tensor_id << 32) + i) >> 40) / 2^24 in [0,1), exact in float32."""
    x = (np.uint64(tensor_id) << np.uint64(32)) + np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def fan_in(name, shape):
    if len(shape) == 4:   # conv [OC,C,K,K]; convT [C,OC,K,K]: torch takes dim 1 either way
        return shape[1] * shape[2] * shape[3]
    if len(shape) == 2:
        return shape[1]
    return None


def splitmix_state_dict(model):
    """Weights w = (2u-1)/sqrt(fan_in), biases the bound of their weight; tensor k uses id k+1."""
    sd = {}
    names = list(model.state_dict().keys())
    for k, name in enumerate(names):
        shape = tuple(model.state_dict()[name].shape)
        w_shape = tuple(model.state_dict()[name.replace(".bias", ".weight")].shape)
        bound = 1.0 / np.sqrt(fan_in(name, w_shape))
        u = splitmix_uniform(k + 1, int(np.prod(shape)))
        sd[name] = torch.from_numpy(((2 * u - 1) * bound).astype(np.float32).reshape(shape))
    return sd


def adam_losses(model, loss_fn):
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    losses = []
    for _ in range(ADAM_STEPS):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses, dtype=np.float32)


def put(f, name, t):
    a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
    f.create_dataset(name, data=a.astype(np.float32))


def put_all(f, prefix, **tensors):
    """put() of every tensor under prefix + its name."""
    for k, t in tensors.items():
        put(f, prefix + k, t)


def ae_fixture_file(path, model, x, attrs, state_dict, grad):
    """The float64 pass of an autoencoder fixture (L1 of the reconstruction) and its file:
    attrs and lr, x, the float32 state dict (when state_dict), recon, z, loss, each
    parameter's gradient through grad(f, name, g), the Adam losses; returns the loss."""
    sd32 = {k: v.clone() for k, v in model.state_dict().items()}
    model = model.double().train()
    xd = x.double()
    recon, z = model(xd)
    loss = F.l1_loss(recon, xd)
    loss.backward()
    with h5py.File(path, "w") as f:
        for k, v in attrs.items():
            f.attrs[k] = v
        f.attrs["lr"] = LR
        put(f, "x", x)
        if state_dict:
            for k, v in sd32.items():
                put(f, "state_dict/" + k, v)
        put(f, "recon", recon)
        put(f, "z", z)
        put(f, "loss", loss.reshape(1))
        for k, p in model.named_parameters():
            grad(f, k, p.grad)
        put(f, "adam_losses", adam_losses(model, lambda: F.l1_loss(model(xd)[0], xd)))
    return loss


def ae_fixture(path, C, H, W, stages, base, latent, B, splitmix):
    torch.manual_seed(1234)
    model = ConvAutoencoder(C, H, W, latent, stages, base)
    if splitmix:
        model.load_state_dict(splitmix_state_dict(model))
        x = splitmix_uniform(1000, B * C * H * W).astype(np.float32).reshape(B, C, H, W)
        x = torch.from_numpy(x)
    else:
        x = torch.rand(B, C, H, W)
    def grad(f, k, g):
        if splitmix and g.numel() > SUB_MIN:
            put(f, "grads_sub/" + k, g.reshape(-1)[::SUB_STRIDE])
            put(f, "grads_norm/" + k, g.reshape(-1).norm().reshape(1))
        else:
            put(f, "grads/" + k, g)

    loss = ae_fixture_file(path, model, x, dict(H=H, W=W, C=C, stages=stages, base_channels=base, latent_dim=latent,
                                                B=B, adam_steps=ADAM_STEPS, splitmix=int(splitmix)),
                           not splitmix, grad)
    print(f"{path}: loss {loss.item():.6f}, {os.path.getsize(path)} bytes")


def dyn_fixture(path, Z=32, A=8, hidden=128, B=4, K=3):
    torch.manual_seed(4321)
    model = DynamicsModel(Z, A, hidden)
    z = torch.randn(B, Z)
    a = F.one_hot(torch.randint(0, A, (B,)), A).float()
    z_next = z + 0.1 * torch.randn(B, Z)
    roll_a = F.one_hot(torch.randint(0, A, (K, B)), A).float()
    roll_z = torch.cumsum(torch.cat([torch.randn(1, B, Z), 0.1 * torch.randn(K, B, Z)]), 0)
    sd32 = {k: v.clone() for k, v in model.state_dict().items()}
    model = model.double()
    zd, ad, znd = z.double(), a.double(), z_next.double()
    rad, rzd = roll_a.double(), roll_z.double()

    def step_loss():
        return F.mse_loss(model(torch.cat([zd, ad], 1)), znd - zd)

    def rollout():
        zs, zt = [], rzd[0]
        for t in range(K):
            zt = zt + model(torch.cat([zt, rad[t]], 1))
            zs.append(zt)
        zs = torch.stack(zs)
        return zs, F.mse_loss(zs, rzd[1:])

    delta = model(torch.cat([zd, ad], 1))
    loss = F.mse_loss(delta, znd - zd)
    loss.backward()
    grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    model.zero_grad()
    roll_zhat, roll_loss = rollout()
    roll_loss.backward()
    roll_grads = {k: p.grad.clone() for k, p in model.named_parameters()}
    with h5py.File(path, "w") as f:
        for k, v in dict(Z=Z, A=A, hidden=hidden, B=B, K=K, adam_steps=ADAM_STEPS).items():
            f.attrs[k] = v
        f.attrs["lr"] = LR
        put(f, "z", z)
        put(f, "a", a)
        put(f, "z_next", z_next)
        for k, v in sd32.items():
            put(f, "state_dict/" + k, v)
        put(f, "delta", delta)
        put(f, "loss", loss.reshape(1))
        for k, g in grads.items():
            put(f, "grads/" + k, g)
        put(f, "roll_a", roll_a)
        put(f, "roll_z", roll_z)
        put(f, "roll_zhat", roll_zhat)
        put(f, "roll_loss", roll_loss.reshape(1))
        for k, g in roll_grads.items():
            put(f, "roll_grads/" + k, g)
        put(f, "adam_losses", adam_losses(model, step_loss))
        for k, v in model.state_dict().items():
            put(f, "adam_final/" + k, v)
    print(f"{path}: loss {loss.item():.6f} rollout loss {roll_loss.item():.6f}, "
          f"{os.path.getsize(path)} bytes")


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    ae_fixture(os.path.join(OUT, "model_ae_gray80.h5"), 1, 80, 80, 3, 32, 32, 2, splitmix=True)
    ae_fixture(os.path.join(OUT, "model_ae_rgb.h5"), 3, 32, 48, 4, 4, 16, 2, splitmix=False)
    dyn_fixture(os.path.join(OUT, "model_dyn.h5"))
