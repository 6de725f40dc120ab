"""nemu_modules.py - the PyTorch modules of both of nemu's model families, named and shaped
as nemu's HDF5 checkpoints (SPEC.md section 5): /state_dict/<name> of a nemu checkpoint loads
into them with load_state_dict_h5 (strict), and save_state_dict_h5 writes one nemu loads.

Flat family (gymemu): ConvAutoencoder, DynamicsModel (tests/gymemu_models.py, re-exported).
Spatial family (model.latent = spatial):
  SpatialAutoencoder: encoder_conv = [Conv2d(k4 s2 p1), ReLU] x stages (channels base*2^i),
    latent_enc = Conv2d 1x1 to latent_channels (no activation): z [B, Lc, H/2^S, W/2^S];
    decode: latent_dec = Conv2d 1x1 back to base*2^(S-1), ReLU, then decoder_conv as gymemu's
    ([ConvTranspose2d(k4 s2 p1), ReLU] x (stages-1), ConvTranspose2d, Sigmoid).
  ConvDynamics: the conv dynamics on that grid (nn/dyn_conv.h): x0 = [z ; buttons as constant
    planes], h0 = ReLU(conv_in 3x3), g = ctx(mean of h0 over the grid), h1 = ReLU(blocks.0(h0)
    + g), h_{i+1} = ReLU(blocks.i(h_i)), head = conv_out(h_nb) (3x3, zero-init): the delta
    [B, Lc, h, w] or, vae, [B, 2Lc, h, w] (mean channels first, then log-variance).
  model_from_checkpoint(path): the module a nemu checkpoint's attributes describe, loaded.
"""
import torch
from torch import nn
import torch.nn.functional as F

from gymemu_models import (ConvAutoencoder, DynamicsModel, load_state_dict_h5,  # noqa: F401
                           save_state_dict_h5, stage_channels, encoder_stages, decoder_stages, init_encoder)


class SpatialAutoencoder(nn.Module):
    def __init__(self, channels=1, height=80, width=80, latent_channels=16, stages=3, base=32,
                 latent_noise=0.0):
        super().__init__()
        chans = init_encoder(self, channels, stages, base, latent_noise)
        self.latent_enc = nn.Conv2d(chans[-1], latent_channels, kernel_size=1)
        self.latent_dec = nn.Conv2d(latent_channels, chans[-1], kernel_size=1)
        self.decoder_conv = decoder_stages(chans)

    def encode(self, x):
        return self.latent_enc(self.encoder_conv(x))

    def decode(self, z):
        return self.decoder_conv(F.relu(self.latent_dec(z)))

    forward = ConvAutoencoder.forward   # encode, latent noise when training, decode


class ConvDynamics(nn.Module):
    def __init__(self, latent_channels=16, height=10, width=10, n_actions=8, hidden=64, blocks=2,
                 vae=False, hyp=1, history=0, history_offsets=None):
        super().__init__()
        self.history = history
        # how many steps back each of the N latents of hist is (dynamics.history's list form);
        # the net is the same, the caller fills hist[:, k] with the latent history_offsets[k] back
        self.history_offsets = list(history_offsets or range(1, history + 1))
        self.conv_in = nn.Conv2d(latent_channels + n_actions + history * latent_channels, hidden, 3, padding=1)
        self.ctx = nn.Linear(hidden, hidden)
        self.blocks = nn.ModuleList([nn.Conv2d(hidden, hidden, 3, padding=1) for _ in range(blocks)])
        out = 2 * latent_channels if vae else hyp * latent_channels + hyp if hyp > 1 else latent_channels
        self.conv_out = nn.Conv2d(hidden, out, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)
        if vae:   # the log-variance channels start at -7 (nn/model.h DYN_VAE_LOGVAR_INIT)
            nn.init.constant_(self.conv_out.bias[latent_channels:], -7.0)

    def forward(self, z, a, hist=None):
        """z [B, Lc, h, w], a [B, A], hist [B, N, Lc, h, w] the N latents before z (history > 0;
        as inputs: no gradient reaches them through nemu's dynamics, detach them for parity)
        -> head [B, OUT_C, h, w] (the delta, or mean | logvar)."""
        planes = a[:, :, None, None].expand(-1, -1, z.shape[2], z.shape[3])
        diffs = [z - hist[:, k] for k in range(self.history)]
        h = F.relu(self.conv_in(torch.cat([z, planes] + diffs, 1)))
        g = self.ctx(h.mean(dim=(2, 3)))
        for i, blk in enumerate(self.blocks):
            pre = blk(h)
            if i == 0:
                pre = pre + g[:, :, None, None]
            h = F.relu(pre)
        return self.conv_out(h)


def _attr(a, k):
    v = a[k]
    return v.decode() if isinstance(v, bytes) else v


def model_from_checkpoint(path):
    """The module a nemu checkpoint describes (its root attributes), with its weights."""
    import h5py
    with h5py.File(path, "r") as f:
        a = {k: _attr(f.attrs, k) for k in f.attrs.keys()}
    kind = a["model"]
    if kind == "autoencoder":
        dims = (int(a["channels"]), int(a["height"]), int(a["width"]))
        if a.get("latent", "flat") == "spatial":
            m = SpatialAutoencoder(*dims, int(a["latent_channels"]), int(a["stages"]),
                                   int(a["base_channels"]))
        else:
            m = ConvAutoencoder(*dims, int(a["latent_dim"]), int(a["stages"]), int(a["base_channels"]))
    elif kind == "dynamics" and a.get("family", "flat") == "conv":
        m = ConvDynamics(int(a["latent_channels"]), int(a["grid_height"]), int(a["grid_width"]),
                         int(a["n_actions"]), int(a["hidden"]), int(a["blocks"]), bool(int(a.get("vae", 0))),
                         int(a.get("hypotheses", 1)), int(a.get("history", 0)),
                         [int(x) for x in str(a["history_offsets"]).split(",")] if "history_offsets" in a else None)
    elif kind == "dynamics":
        m = DynamicsModel(int(a["latent_dim"]), int(a["n_actions"]), int(a["hidden"]))
    else:
        raise ValueError(f"{path}: unknown model '{kind}'")
    return load_state_dict_h5(path, m)
