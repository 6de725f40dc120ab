"""cases_init.py - issue #16 class 11: `./train --init FILE` with weights-only files (only
/state_dict, as PyTorch writes them: tools/state_dict_h5.py). Accepted: a nemu checkpoint's
/state_dict with its attributes stripped. Refused before any file: other shapes, a missing or
an extra tensor, a NaN, a FIFO, a file without /state_dict."""
import os

import h5py
import numpy as np

from hostile import Case, tiny_ini, write


def weights_only(src, dst, edit=None):
    """dst: /state_dict of the checkpoint src and nothing else; edit(group) may change it."""
    def setup(d):
        with h5py.File(os.path.join(d, src), "r") as f, h5py.File(os.path.join(d, dst), "w") as g:
            for k in f["state_dict"]:
                g.create_dataset("state_dict/" + k, data=f["state_dict"][k][()])
            if edit:
                edit(g["state_dict"])
    return setup


def nan_first(grp):
    k = sorted(grp.keys())[0]
    v = grp[k][()]
    v.flat[0] = np.nan
    grp[k][...] = v


def cases():
    new = ["--set", "run.name=n"]
    return [
        Case(11, "--init: weights-only file of the flat autoencoder", ["train", "flat.ini", "--init", "w.h5"] + new,
             outcome="accepted", setup=weights_only("runs/flat/ae_best.h5", "w.h5"), changes=("runs/n/*",)),
        Case(11, "--init: weights-only file of the conv dynamics, dynamics stage",
             ["train", "dyn.ini", "--init", "w.h5"] + new, outcome="accepted",
             setup=lambda d: (weights_only("runs/sp/dyn_best.h5", "w.h5")(d),
                              write(os.path.join(d, "dyn.ini"), tiny_ini("spatial", "dynamics", "runs/sp/ae_best.h5"))),
             changes=("runs/n/*",)),
        Case(11, "--init: the spatial autoencoder's weights for a flat config",
             ["train", "flat.ini", "--init", "w.h5"] + new,
             expect=r"--init w\.h5: tensor '/state_dict/fc_enc\.weight' \[8,256\] is missing \(and \d+ more differences\)",
             setup=weights_only("runs/sp/ae_best.h5", "w.h5")),
        Case(11, "--init: a tensor of another shape", ["train", "flat.ini", "--init", "w.h5"] + new,
             expect=r"--init w\.h5: tensor '/state_dict/fc_dec\.bias': expected shape \[256\], found \[3\]",
             setup=weights_only("runs/flat/ae_best.h5", "w.h5",
                                lambda g: (g.__delitem__("fc_dec.bias"), g.create_dataset("fc_dec.bias", data=[1., 2., 3.])))),
        Case(11, "--init: an extra tensor", ["train", "flat.ini", "--init", "w.h5"] + new,
             expect=r"--init w\.h5: unexpected tensor '/state_dict/extra\.weight'",
             setup=weights_only("runs/flat/ae_best.h5", "w.h5", lambda g: g.create_dataset("extra.weight", data=[1.]))),
        Case(11, "--init: a NaN weight", ["train", "flat.ini", "--init", "w.h5"] + new,
             expect=r"--init w\.h5: tensor 'state_dict/decoder_conv\.0\.bias' \[\d+\] holds 1 non-finite value",
             setup=weights_only("runs/flat/ae_best.h5", "w.h5", nan_first)),
        Case(11, "--init: a FIFO", ["train", "flat.ini", "--init", "w.h5"] + new, expect=r"w\.h5: is a FIFO",
             setup=lambda d: os.mkfifo(os.path.join(d, "w.h5"))),
        Case(11, "--init: no value", ["train", "flat.ini", "--init"], expect=r"--init needs a weights file"),
    ]
