"""gymemu_models.py - the PyTorch modules of gymemu (train.py: ConvAutoencoder, DynamicsModel),
re-written with their sizes as arguments. Only the Python test scripts use this file; the
state_dict names and shapes are the contract of nemu's HDF5 checkpoints (SPEC.md section 5).

ConvAutoencoder: encoder_conv = [Conv2d(k4 s2 p1), ReLU] x stages (channels base*2^i),
flatten, fc_enc Linear -> latent; decode: fc_dec Linear (no activation), reshape,
decoder_conv = [ConvTranspose2d(k4 s2 p1), ReLU] x (stages-1), ConvTranspose2d, Sigmoid.
With stages=3, base=32, 80x80x1, latent 32 this is gymemu's model exactly.
DynamicsModel: net = LayerNorm(Z+A), Linear(Z+A,hidden), GELU, Linear(hidden,hidden), GELU,
Linear(hidden,Z); orthogonal init of net.1.weight, zero net.5.bias; output = latent delta.
"""
import torch
from torch import nn


def stage_channels(channels, stages, base):
    """[input channels, base, 2 base, ..., base 2^(stages-1)]: the conv stages' widths."""
    return [channels] + [base * 2 ** i for i in range(stages)]


def encoder_stages(chans):
    """encoder_conv: [Conv2d(k4 s2 p1), ReLU] per stage, chans[i] -> chans[i+1]."""
    enc = []
    for i in range(len(chans) - 1):
        enc += [nn.Conv2d(chans[i], chans[i + 1], kernel_size=4, stride=2, padding=1), nn.ReLU()]
    return nn.Sequential(*enc)


def decoder_stages(chans):
    """decoder_conv: [ConvTranspose2d(k4 s2 p1), ReLU] back down chans, the last with Sigmoid."""
    dec = []
    for i in range(len(chans) - 1, 0, -1):
        dec += [nn.ConvTranspose2d(chans[i], chans[i - 1], kernel_size=4, stride=2, padding=1),
                nn.ReLU() if i > 1 else nn.Sigmoid()]
    return nn.Sequential(*dec)


def init_encoder(ae, channels, stages, base, latent_noise):
    """The start of an autoencoder's __init__ (ConvAutoencoder, nemu_modules.SpatialAutoencoder):
    ae.latent_noise and ae.encoder_conv; returns the stage channels."""
    ae.latent_noise = latent_noise
    chans = stage_channels(channels, stages, base)
    ae.encoder_conv = encoder_stages(chans)
    return chans


class ConvAutoencoder(nn.Module):
    def __init__(self, channels=1, height=80, width=80, latent_dim=32, stages=3, base=32,
                 latent_noise=0.0):
        super().__init__()
        chans = init_encoder(self, channels, stages, base, latent_noise)
        self.conv_shape = (chans[-1], height >> stages, width >> stages)
        flat = chans[-1] * (height >> stages) * (width >> stages)
        self.fc_enc = nn.Linear(flat, latent_dim)
        self.fc_dec = nn.Linear(latent_dim, flat)
        self.decoder_conv = decoder_stages(chans)

    def encode(self, x):
        h = self.encoder_conv(x)
        return self.fc_enc(h.reshape(h.size(0), -1))

    def decode(self, z):
        h = self.fc_dec(z)
        return self.decoder_conv(h.reshape(h.size(0), *self.conv_shape))

    def forward(self, x):
        z = self.encode(x)
        zin = z
        if self.training and self.latent_noise > 0:
            zin = z + torch.randn_like(z) * self.latent_noise
        return self.decode(zin), z


class DynamicsModel(nn.Module):
    def __init__(self, z_dim=32, n_actions=9, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.LayerNorm(z_dim + n_actions),
            nn.Linear(z_dim + n_actions, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, z_dim),
        )
        nn.init.orthogonal_(self.net[1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, z_and_a):
        return self.net(z_and_a)


def save_state_dict_h5(path, model, model_kind, dims):
    """Writes a state_dict in nemu's checkpoint layout (no optimizer state)."""
    import h5py
    with h5py.File(path, "w") as f:
        for k, v in model.state_dict().items():
            f.create_dataset("state_dict/" + k, data=v.detach().cpu().float().numpy())
        f.attrs["format"] = "nemu-checkpoint"
        f.attrs["version"] = 1
        f.attrs["model"] = model_kind
        for k, v in dims.items():
            f.attrs[k] = v


def load_state_dict_h5(path, model):
    """Loads /state_dict/* of a nemu checkpoint into a module (strict names and shapes)."""
    import h5py
    with h5py.File(path, "r") as f:
        sd = {k: torch.from_numpy(f["state_dict"][k][...]) for k in f["state_dict"].keys()}
    model.load_state_dict(sd, strict=True)
    return model
