"""cases_files.py - issue #16 classes 1 (data loss), 2 (hangs), 3 (late refusal) and 8
(checkpoints that lie): what a path is before anything opens it, outputs that are inputs,
--force that keeps the old run until the new one has a checkpoint, and every number a
checkpoint gives range-checked against the config before it is used."""
import os
import re
import subprocess

from hostile import Case, h5_set, run_prog, tiny_ini, write
import h5py
import numpy as np


def fifo(rel):
    return lambda d: os.mkfifo(os.path.join(d, rel))


def frames(d, n=3):
    """frames/0000.png ... and a.csv for gen import."""
    from PIL import Image
    os.makedirs(os.path.join(d, "frames"))
    for i in range(n):
        Image.fromarray(np.full((16, 16), 40 * i, np.uint8)).save(os.path.join(d, "frames", "%04d.png" % i))
    write(os.path.join(d, "a.csv"), "A,B\n" + "0,1\n" * n)


def attr(path, name, value):
    def setup(d):
        with h5py.File(os.path.join(d, path), "r+") as f:
            f.attrs[name] = value
    return setup


def mid_epoch(rd, epoch=0, batch=1):
    """A checkpoint as a SIGINT leaves it (inside an epoch), of the stage's last file."""
    def setup(d):
        with h5py.File(os.path.join(d, rd), "r+") as f:
            f.attrs["epoch"] = np.int64(epoch)
            f.attrs["batch"] = np.int64(batch)
            f.attrs["epoch_samples"] = np.int64(16 * batch)
            f.attrs["epoch_loss_sum"] = np.float64(1.0)
    return setup


def immutable(rel):
    """A run folder nobody may write into (root included): chattr +i, else chmod 555."""
    def setup(d):
        p = os.path.join(d, rel)
        if subprocess.run(["chattr", "+i", p], capture_output=True).returncode != 0:
            os.chmod(p, 0o555)
    return setup


def writable_again(rel):
    def after(d, r):
        p = os.path.join(d, rel)
        subprocess.run(["chattr", "-i", p], capture_output=True)
        os.chmod(p, 0o755)
        return True, ""
    return after


def no_old_left(d, r):
    left = [x for x in os.listdir(os.path.join(d, "runs")) if ".old." in x or ".tmp." in x]
    return not left, "left behind: %s" % left


def cases():
    out = [
        # ---- class 1: nothing existing is lost or overwritten
        Case(1, "--force, new run diverges before its first checkpoint: the old run is put back",
             ["train", "flat.ini", "--force", "--set", "train.lr=1e30"], outcome="handled", rc=1,
             expect=r"non-finite|loss is", after=no_old_left),
        Case(1, "--force, new run refused by its config: nothing touched",
             ["train", "flat.ini", "--force", "--set", "dynamics.type=vae", "--set", "dynamics.beta=-1"],
             expect=r"beta"),
        Case(1, "--force that succeeds replaces the run and leaves no .old folder",
             ["train", "flat.ini", "--force"], outcome="handled", changes=("runs/flat/*",), after=no_old_left),
        Case(1, "a run --force replaced, left by a killed run, is reported, not removed",
             ["train", "flat.ini", "--resume"], outcome="handled", expect=r"runs/flat\.old\.999999.*kept",
             setup=lambda d: os.makedirs(os.path.join(d, "runs", "flat.old.999999")),
             changes=("runs/flat.old.999999",)),
        Case(1, "gen import --out names its own CSV", ["gen", "import", "--frames", "frames", "--actions", "a.csv",
                                                       "--out", "a.csv"],
             expect=r"--out a\.csv: is the same file as a\.csv, an input", setup=frames),
        Case(1, "gen import --out names one of its frames",
             ["gen", "import", "--frames", "frames", "--actions", "a.csv", "--out", "frames/0001.png"],
             expect=r"same file as frames/0001\.png", setup=frames),
        Case(1, "gen import --out names the frames folder",
             ["gen", "import", "--frames", "frames", "--actions", "a.csv", "--out", "frames"],
             expect=r"--out frames: is (a directory|the same file as frames)", setup=frames),
        Case(1, "eval --recon --out names the data file", ["eval", "--recon", "d.h5", "--run", "runs/flat", "--out",
                                                            "d.h5"],
             expect=r"--out d\.h5: is the same file as d\.h5"),
        Case(1, "eval --recon --out names the autoencoder", ["eval", "--recon", "d.h5", "--run", "runs/flat", "--out",
                                                              "runs/flat/ae_best.h5"],
             expect=r"same file as runs/flat/ae_best\.h5"),
        # ---- class 2: no path blocks, no number spins
        Case(2, "config is a FIFO", ["train", "c.ini"], expect=r"config 'c\.ini': is a FIFO", setup=fifo("c.ini")),
        Case(2, "config is a directory", ["train", "runs"], expect=r"config 'runs': is a directory"),
        Case(2, "config is a character device", ["train", "/dev/zero"], expect=r"is a character device"),
        Case(2, "include names a FIFO", ["train", "i.ini"], expect=r"i\.ini:1: include 'p\.ini': is a FIFO",
             setup=lambda d: (write(os.path.join(d, "i.ini"), "include = p.ini\n"), os.mkfifo(os.path.join(d, "p.ini")))),
        Case(2, "eval's config is a FIFO", ["eval", "--run", "runs/flat"], expect=r"is a FIFO",
             setup=lambda d: (os.remove(os.path.join(d, "runs/flat/config.ini")), fifo("runs/flat/config.ini")(d))),
        Case(2, "data.path is a FIFO", ["train", "flat.ini", "--set", "run.name=n", "--set", "data.path=f.h5"],
             expect=r"f\.h5: .*(FIFO|special)", setup=fifo("f.h5")),
        Case(2, "model.autoencoder is a FIFO", ["train", "dyn.ini"], expect=r"ae\.h5: is a FIFO",
             setup=lambda d: (write(os.path.join(d, "dyn.ini"), tiny_ini("flat", "dynamics", "ae.h5")),
                              os.mkfifo(os.path.join(d, "ae.h5")))),
        Case(2, "eval --compare a FIFO", ["eval", "--compare", "p.png", "runs/flat/recon.png"],
             expect=r"p\.png: is a FIFO", setup=fifo("p.png")),
        Case(2, "eval --compare a directory", ["eval", "--compare", "runs", "runs/flat/recon.png"],
             expect=r"runs: is a directory"),
        Case(2, "gen info a FIFO", ["gen", "info", "f.h5"], expect=r"f\.h5: .*(FIFO|special)", setup=fifo("f.h5")),
        Case(2, "gen import --actions a FIFO", ["gen", "import", "--frames", "frames", "--actions", "p.csv", "--out",
                                                "o.h5"],
             expect=r"p\.csv: is a FIFO", setup=lambda d: (frames(d), fifo("p.csv")(d))),
        Case(2, "gen import: a FIFO among the frames", ["gen", "import", "--frames", "frames", "--actions", "a.csv",
                                                        "--out", "o.h5"],
             expect=r"frames/0003\.png: is a FIFO",
             setup=lambda d: (frames(d), fifo("frames/0003.png")(d), write(d + "/a.csv", "A,B\n" + "0,1\n" * 4))),
        Case(2, "eval: split.txt is a FIFO", ["eval", "--run", "runs/flat"], expect=r"split\.txt: is a FIFO",
             setup=lambda d: (os.remove(os.path.join(d, "runs/flat/split.txt")), fifo("runs/flat/split.txt")(d))),
        Case(2, "--resume: log.csv is a FIFO", ["train", "flat.ini", "--resume"], expect=r"log\.csv: is a FIFO",
             setup=lambda d: (os.remove(os.path.join(d, "runs/flat/log.csv")), fifo("runs/flat/log.csv")(d))),
        Case(2, "--resume: checkpoint epoch 10^12", ["train", "flat.ini", "--resume"],
             expect=r"ae_last\.h5: attribute epoch = 1000000000000; expected 0\.\.1",
             setup=lambda d: (attr("runs/flat/ae_last.h5", "epoch", np.int64(10**12))(d),
                              [os.remove(os.path.join(d, "runs/flat", f)) for f in ("dyn_last.h5", "dyn_best.h5")])),
        Case(2, "--resume: checkpoint epoch -5", ["train", "flat.ini", "--resume"],
             expect=r"dyn_last\.h5: attribute epoch = -5; expected 0\.\.1",
             setup=attr("runs/flat/dyn_last.h5", "epoch", np.int64(-5))),
        Case(2, "--resume: batch beyond the epoch", ["train", "sp.ini", "--resume"],
             expect=r"dyn_last\.h5: attribute batch = 99999; expected 0\.\.\d+",
             setup=lambda d: (mid_epoch("runs/sp/dyn_last.h5")(d),
                              attr("runs/sp/dyn_last.h5", "batch", np.int64(99999))(d))),
        Case(2, "--resume: epoch_samples beyond batch x batch_size", ["train", "flat.ini", "--resume"],
             expect=r"attribute epoch_samples = 1000000; expected 0\.\.16",
             setup=lambda d: (mid_epoch("runs/flat/dyn_last.h5")(d),
                              attr("runs/flat/dyn_last.h5", "epoch_samples", np.int64(10**6))(d))),
        # ---- class 3: refusals before any work and any file
        Case(3, "--resume into a folder nobody may write", ["train", "flat.ini", "--resume"],
             expect=r"runs/flat: cannot resume into it: creating a file there fails: .*expected a writable run folder",
             setup=lambda d: (os.remove(os.path.join(d, "runs/flat/dyn_last.h5")), immutable("runs/flat")(d)),
             after=writable_again("runs/flat")),
        # ---- class 8: checkpoints that lie
        Case(8, "--resume: a negative step is named, not reported as a NaN loss", ["train", "flat.ini", "--resume"],
             expect=r"dyn_last\.h5: attribute step = -3; expected 0\.\.\d+",
             setup=attr("runs/flat/dyn_last.h5", "step", np.int64(-3))),
        Case(8, "--resume: ae_last.h5 missing while ae_best.h5 exists", ["train", "sp.ini", "--resume"],
             expect=r"ae_last\.h5: missing while ae_best\.h5 exists",
             setup=lambda d: [os.remove(os.path.join(d, "runs/sp", f))
                              for f in ("ae_last.h5", "dyn_last.h5", "dyn_best.h5")]),
        Case(8, "--resume: a garbage split.txt", ["train", "flat.ini", "--resume"],
             expect=r"split\.txt: found 'garbage', expected 'train:",
             setup=lambda d: write(os.path.join(d, "runs/flat/split.txt"), "garbage\n")),
        Case(8, "--resume: split.txt of another split", ["train", "sp.ini", "--resume"],
             expect=r"split\.txt: found 'val: 99', expected 'val:",
             setup=lambda d: _other_split(os.path.join(d, "runs/sp/split.txt"))),
    ]
    return out + cases_lie() + cases_sizes() + [
        Case(2, "eval: an absurd tetris_warmup_steps (the replay would run for hours)", ["eval", "--run", "runs/flat"],
             outcome="handled", expect=r"unavailable: d\.h5: /episode_\d+ attribute tetris_warmup_steps = "
                                       r"1000000000000000; expected 0\.\.\d+",
             setup=_warmup(10**15), changes=("results/*", "results/flat/*")),
    ]


def _warmup(v):
    def setup(d):
        with h5py.File(os.path.join(d, "d.h5"), "r+") as f:
            for k in f:
                f[k].attrs["tetris_warmup_steps"] = np.int64(v)
    return setup


def _other_split(p):
    lines = open(p).read().split("\n")
    write(p, "\n".join("val: 99" if x.startswith("val:") else x for x in lines))


def cases_lie():
    """Class 8: a dynamics stage whose config names model sizes other than its autoencoder's."""
    def dyn_ini(latent, old="", new=""):
        def setup(d):
            text = tiny_ini(latent, "dynamics", "runs/%s/ae_best.h5" % ("flat" if latent == "flat" else "sp"))
            write(os.path.join(d, "dyn.ini"), text.replace(old, new, 1))
        return setup
    return [
        Case(8, "dynamics stage: config latent_dim differs from the flat autoencoder's",
             ["train", "dyn.ini"], setup=dyn_ini("flat", "latent_dim = 8", "latent_dim = 32"),
             expect=r"model\.latent_dim = 32 \(dyn\.ini:\d+\) but the autoencoder runs/flat/ae_best\.h5 has 8"),
        Case(8, "dynamics stage: config base_channels differs from the spatial autoencoder's",
             ["train", "dyn.ini", "--set", "model.base_channels=16"], setup=dyn_ini("spatial"),
             expect=r"model\.base_channels = 16 \(--set model\.base_channels=16\) but the autoencoder runs/sp/ae_best\.h5 "
                    r"has 4"),
    ]


def _records_ae_sizes(name, want):
    """after(): runs/<name>/config.ini records the autoencoder's sizes, want = {key: value}."""
    def after(d, r):
        text = open(os.path.join(d, "runs", name, "config.ini")).read()
        bad = ["%s = %s" % (k, v) for k, v in want.items()
               if not re.search(r"^%s = %s$" % (k, v), text, re.M)]
        return (not bad, "runs/%s/config.ini does not record %s" % (name, ", ".join(bad)))
    return after


def cases_sizes():
    """Class 8: a dynamics stage that leaves the model sizes out records its autoencoder's, in
    the resolved config and config.ini, and resumes with the same config."""
    def dyn_ini(latent, drop):
        def setup(d):
            text = tiny_ini(latent, "dynamics", "runs/%s/ae_best.h5" % ("flat" if latent == "flat" else "sp"))
            for line in drop:
                text = text.replace(line + "\n", "", 1)
            write(os.path.join(d, "dyn.ini"), text)
        return setup
    flat = dyn_ini("flat", ["latent_dim = 8", "base_channels = 4"])
    sp = dyn_ini("spatial", ["latent_channels = 2", "base_channels = 4"])
    def finished(recorded):
        """The flat dynamics run trained; recorded: the sizes its config.ini then says (None: as written)."""
        def setup(d):
            flat(d)
            r = run_prog(["train", "dyn.ini"], d)
            assert r.returncode == 0, r.stderr
            if recorded:
                p = os.path.join(d, "runs", "dyn", "config.ini")
                text = re.sub(r"^(latent_dim|base_channels) = \d+$", r"\1 = " + recorded, open(p).read(), flags=re.M)
                write(p, text)
        return setup
    return [
        Case(8, "dynamics stage without model sizes: config.ini records the flat autoencoder's", ["train", "dyn.ini"],
             outcome="handled", setup=flat, changes=("runs/dyn", "runs/dyn/*"), expect=r"latent_dim = 8\n",
             after=_records_ae_sizes("dyn", {"latent_dim": 8, "base_channels": 4, "stages": 3})),
        Case(8, "dynamics stage without model sizes: config.ini records the spatial autoencoder's",
             ["train", "dyn.ini"], outcome="handled", setup=sp, changes=("runs/dyn", "runs/dyn/*"),
             expect=r"latent_channels = 2\n",
             after=_records_ae_sizes("dyn", {"latent_channels": 2, "base_channels": 4, "stages": 3})),
        Case(8, "dynamics stage without model sizes resumes with the same config", ["train", "dyn.ini", "--resume"],
             outcome="handled", setup=finished(None), changes=("runs/dyn/*",), expect=r"done: runs/dyn "),
        Case(8, "a dynamics run whose config.ini recorded the defaults (before the fix) still resumes",
             ["train", "dyn.ini", "--resume"], outcome="handled", setup=finished("32"), changes=("runs/dyn/*",),
             expect=r"done: runs/dyn "),
    ]
