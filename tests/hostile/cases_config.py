"""cases_config.py - issue #16 class 7: configs a user can type by accident. Refused with the
file:line (or --set), the key, what was found and what was expected: hex floats (integers are
never hex either), NaN/Inf, a NUL byte, a seed beyond 64 bits, a batch larger than the training
set. Accepted on purpose: a UTF-8 byte order mark at the start of the file."""
import os

from hostile import Case, write

NEW = ["--set", "run.name=n"]


def edited(src, dst, fn, mode="w"):
    def setup(d):
        text = open(os.path.join(d, src)).read()
        with open(os.path.join(d, dst), mode) as f:
            f.write(fn(text))
    return setup


def cases():
    return [
        Case(7, "hex float lr in the file", ["train", "c.ini"] + NEW,
             expect=r"c\.ini:\d+: \[train\] lr: expected .*, found '0x1p-10'",
             setup=edited("flat.ini", "c.ini", lambda t: t.replace("lr = 0.003", "lr = 0x1p-10"))),
        Case(7, "hex float by --set", ["train", "flat.ini", "--set", "train.lr=0X1P-3"] + NEW,
             expect=r"--set train\.lr=0X1P-3: \[train\] lr: expected .*, found '0X1P-3'"),
        Case(7, "lr = nan", ["train", "flat.ini", "--set", "train.lr=nan"] + NEW, expect=r"\[train\] lr: expected"),
        Case(7, "val_split = inf", ["train", "flat.ini", "--set", "data.val_split=inf"] + NEW,
             expect=r"\[data\] val_split: expected"),
        Case(7, "a NUL byte inside a line", ["train", "c.ini"] + NEW, expect=r"c\.ini:19: NUL byte at column 6; expected text",
             setup=edited("flat.ini", "c.ini", lambda t: t.replace("lr = 0.003", "lr = \0.003"))),
        Case(7, "a seed beyond 64 bits", ["train", "flat.ini", "--set", "run.seed=18446744073709551616"] + NEW,
             expect=r"\[run\] seed: expected an integer in 0\.\.18446744073709551615, found '18446744073709551616'"),
        Case(7, "a batch larger than the training set", ["train", "flat.ini", "--set", "train.batch_size=65536"] + NEW,
             expect=r"train\.batch_size = 65536 \(--set train\.batch_size=65536\) is larger than the autoencoder's "
                    r"training set \(\d+ frames in \d+ episodes\); expected at most \d+"),
        Case(7, "a batch larger than the dynamics' windows", ["train", "d.ini"] + NEW,
             expect=r"train\.batch_size = 160 \(d\.ini:\d+\) is larger than the dynamics' training set \(\d+ windows",
             setup=edited("flat.ini", "d.ini", lambda t: t.replace("batch_size = 16", "batch_size = 160").replace(
                 "[dynamics]", "[dynamics]\nrollout_steps = 8"))),
        Case(7, "a UTF-8 byte order mark is accepted", ["train", "b.ini", "--set", "train.epochs=0", "--set",
                                                        "dynamics.epochs=0"] + NEW,
             outcome="accepted", setup=edited("flat.ini", "b.ini", lambda t: "\ufeff" + t), changes=("runs/n/*",)),
    ]
