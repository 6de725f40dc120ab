"""cases_nan.py - issue #16 class 4: NaN and Inf that would pass as trained. Every checkpoint
read (./eval, --resume, the dynamics stage's autoencoder, --recon) refuses a non-finite weight
or Adam state naming the file and the tensor; a diverging run never writes one."""
from hostile import Case, h5_set, nan_at, tiny_ini, write
import numpy as np

NONFINITE = r"%s: tensor '%s' \[[0-9,]+\] holds \d+ non-finite values? \(first: %s at flat index \d+\); expected finite"


def poison(path, name, index=0, value=np.nan):
    return lambda d: h5_set("%s/%s" % (d, path), name, nan_at(index, value))


def cases():
    out = []
    for fam, run, aet, dynt in (("flat", "flat", "fc_enc.weight", "net.0.weight"),
                                ("spatial", "sp", "latent_enc.weight", "conv_out.weight")):
        rd = "runs/" + run
        out += [
            Case(4, "eval: NaN weight in the %s autoencoder" % fam, ["eval", "--run", rd],
                 expect=NONFINITE % (rd + "/ae_best.h5", "state_dict/" + aet, "NaN"),
                 setup=poison(rd + "/ae_best.h5", "state_dict/" + aet, 3)),
            Case(4, "eval: +Inf weight in the %s dynamics" % fam, ["eval", "--run", rd],
                 expect=NONFINITE % (rd + "/dyn_best.h5", "state_dict/" + dynt, r"\+Inf"),
                 setup=poison(rd + "/dyn_best.h5", "state_dict/" + dynt, 1, np.inf)),
            Case(4, "eval --recon: -Inf in the %s autoencoder" % fam,
                 ["eval", "--recon", "d.h5", "--run", rd, "--out", "r.png"],
                 expect=NONFINITE % (rd + "/ae_best.h5", "state_dict/encoder_conv.0.bias", "-Inf"),
                 setup=poison(rd + "/ae_best.h5", "state_dict/encoder_conv.0.bias", 0, -np.inf)),
            Case(4, "--resume: NaN in Adam's exp_avg_sq of the %s autoencoder" % fam,
                 ["train", run + ".ini", "--resume"],
                 expect=NONFINITE % (rd + "/ae_last.h5", "optimizer/exp_avg_sq/" + aet, "NaN"),
                 setup=lambda d, rd=rd, aet=aet: (
                     poison(rd + "/ae_last.h5", "optimizer/exp_avg_sq/" + aet, 5)(d), _resume_ae(d, rd))),
            Case(4, "--resume: NaN in Adam's exp_avg of the %s dynamics" % fam,
                 ["train", run + ".ini", "--resume"],
                 expect=NONFINITE % (rd + "/dyn_last.h5", "optimizer/exp_avg/" + dynt, "NaN"),
                 setup=poison(rd + "/dyn_last.h5", "optimizer/exp_avg/" + dynt, 0)),
            Case(4, "dynamics stage on a NaN %s autoencoder" % fam,
                 ["train", "dyn.ini"],
                 expect=NONFINITE % (rd + "/ae_best.h5", "state_dict/" + aet, "NaN"),
                 setup=lambda d, rd=rd, fam=fam, aet=aet: (
                     write(d + "/dyn.ini", tiny_ini(fam, "dynamics", rd + "/ae_best.h5")),
                     poison(rd + "/ae_best.h5", "state_dict/" + aet, 0)(d))),
            Case(4, "lr = 1e30 on the %s autoencoder: weights diverge, the loss may not" % fam,
                 ["train", run + ".ini", "--set", "run.name=big", "--set", "train.lr=1e30"],
                 outcome="handled", rc=1, expect=r"(non-finite values.*diverged|autoencoder loss is (NaN|Inf))",
                 changes=("runs/big/*",)),
            Case(4, "dynamics.lr = 1e30 on the %s dynamics" % fam,
                 ["train", run + ".ini", "--set", "run.name=big", "--set", "dynamics.lr=1e30"],
                 outcome="handled", rc=1, expect=r"(non-finite values.*diverged|dynamics loss is (NaN|Inf))",
                 changes=("runs/big/*",)),
        ]
    return out


def _resume_ae(d, rd):
    """A run stopped inside its autoencoder stage: no dynamics checkpoint yet."""
    import os
    for f in ("dyn_last.h5", "dyn_best.h5"):
        os.remove(os.path.join(d, rd, f))
