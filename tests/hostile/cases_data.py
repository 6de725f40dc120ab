"""cases_data.py - issue #16 classes 5 and 6: episode files and imports that were accepted
without a word. Each is refused in one line saying what is wrong, where, and what was expected:
an action width that does not match action_names, buttons other than 0/1, a total_episodes
that disagrees (or is negative, or a string), a group named like an episode that is not one,
rows declared but not stored, gaps in the episode ids, root objects that are not episodes (an
odd layout: refused unless data.accept_odd = yes or gen info --accept-odd, which then name what
was odd); a CSV without a header, duplicate button names, a missing frame
number or numbers that sort out of order."""
import os

import h5py
import numpy as np

from hostile import Case, write

NAMES = "A,B,SELECT,START,UP,DOWN,LEFT,RIGHT"


def minari(rel, eps=(0, 1, 2), T=5, A=8, names=NAMES, total="count", value=1, declared=None, extra=None):
    """A small Minari-layout file (16x16 grey); the arguments make it wrong in one way."""
    def setup(d):
        with h5py.File(os.path.join(d, rel), "w") as f:
            for i, e in enumerate(eps):
                g = f.create_group("episode_%d" % e)
                if declared and i == 0:   # rows declared, almost none stored
                    g.create_dataset("observations", shape=(declared, 16, 16, 1), dtype="u1", chunks=(1, 16, 16, 1))
                    g.create_dataset("actions", shape=(declared - 1, A), dtype="u1", chunks=(1024, A))
                    continue
                g["observations"] = np.full((T + 1, 16, 16, 1), 30 * i, np.uint8)
                a = np.zeros((T, A), np.uint8)
                a[1, 0] = value
                g["actions"] = a
            if names is not None:
                f.attrs["action_names"] = names
            if total is not None:
                f.attrs["total_episodes"] = len(eps) if total == "count" else total
            if extra:
                f.create_group(extra)
    return setup


def frames(names, csv="A,B\n", rows=None):
    def setup(d):
        from PIL import Image
        os.makedirs(os.path.join(d, "frames"))
        for i, n in enumerate(names):
            Image.fromarray(np.full((16, 16), 20 * i, np.uint8)).save(os.path.join(d, "frames", n))
        write(os.path.join(d, "a.csv"), csv + (rows if rows is not None else "0,1\n" * len(names)))
    return setup


IMPORT = ["gen", "import", "--frames", "frames", "--actions", "a.csv", "--out", "o.h5"]


def cases():
    info = ["gen", "info", "x.h5"]
    return [
        Case(5, "actions 7 wide for 8 action_names", info, setup=minari("x.h5", A=7),
             expect=r"x\.h5: actions have 7 columns but attribute action_names has 8 names .*expected one column per name"),
        Case(5, "actions 20 wide for 8 action_names, in ./train", ["train", "flat.ini", "--set", "data.path=x.h5",
                                                                    "--set", "run.name=n"],
             setup=minari("x.h5", A=20), expect=r"x\.h5: actions have 20 columns but attribute action_names has 8"),
        Case(5, "a button value of 2", info, setup=minari("x.h5", value=2),
             expect=r"x\.h5: episode_0/actions: expected buttons 0 or 1, found 2 at step 1, column 1"),
        Case(5, "total_episodes larger than the groups", info, setup=minari("x.h5", total=5),
             expect=r"attribute total_episodes = 5, but the file holds 3 episode_<n> groups"),
        Case(5, "total_episodes negative", info, setup=minari("x.h5", total=-3),
             expect=r"attribute total_episodes = -3, but the file holds 3"),
        Case(5, "total_episodes a string", info, setup=minari("x.h5", total="three"),
             expect=r"attribute total_episodes: expected an integer, found another type"),
        Case(5, "a missing episode (total_episodes 3, groups 0 and 2)", info, setup=minari("x.h5", eps=(0, 2), total=3),
             expect=r"attribute total_episodes = 3, but the file holds 2 episode_<n> groups"),
        Case(5, "a group named like an episode that is not one", info, setup=minari("x.h5", extra="episode_01"),
             expect=r"root group 'episode_01' is not an episode; expected episode_<n>"),
        Case(5, "a group 'episodeX'", info, setup=minari("x.h5", extra="episodeX"),
             expect=r"root group 'episodeX' is not an episode"),
        Case(5, "ten million frames declared in a small file", info, setup=minari("x.h5", declared=10_000_000),
             expect=r"episode_0/observations: declares 10000000 rows but stores 0 of the 10000000 chunks they need"),
        Case(5, "a file without action_names nor total_episodes is accepted", info, outcome="accepted",
             setup=minari("x.h5", names=None, total=None)),
        # an odd layout: refused by default, with the option named; the option loads it and says what was odd
        Case(5, "a gap in the episode ids (no total_episodes)", info, setup=minari("x.h5", eps=(0, 2), total=None),
             expect=r"x\.h5: episode ids have gaps: episode_1 is missing \(2 episodes, ids 0\.\.2\); expected "
                    r"episode_0\.\.episode_1 in a row; .*data\.accept_odd = yes \(gen info --accept-odd\)"),
        Case(5, "ids starting at 1, in ./train", ["train", "flat.ini", "--set", "data.path=x.h5", "--set", "run.name=n"],
             setup=minari("x.h5", eps=(1, 2, 3), total=None),
             expect=r"x\.h5: episode ids have gaps: episode_0 is missing .*data\.accept_odd = yes"),
        Case(5, "a root group that is not an episode", info, setup=minari("x.h5", extra="metadata"),
             expect=r"x\.h5: root object 'metadata' is not an episode \(1 such\); expected only episode_<n> groups; "
                    r".*--accept-odd"),
        Case(5, "a subset of a recording, meant so: gen info --accept-odd", info[:2] + ["--accept-odd", "x.h5"],
             outcome="accepted", setup=minari("x.h5", eps=(0, 2, 5), total=120, extra="metadata"),
             expect=r"odd layout    accepted \(--accept-odd\): 1 root object skipped \('metadata'\); total_episodes "
                    r"120 for 3 episodes; episode ids 0\.\.5 with 3 missing \(first: episode_1\)\nvalidation    ok"),
        Case(5, "a subset of a recording, meant so: ./train with data.accept_odd = yes",
             ["train", "flat.ini", "--set", "data.path=x.h5", "--set", "run.name=n", "--set", "data.accept_odd=yes",
              "--set", "data.test_episodes=1", "--set", "data.height=16", "--set", "data.width=16",
              "--set", "train.epochs=1", "--set", "dynamics.epochs=1"], outcome="accepted",
             setup=minari("x.h5", eps=(0, 3, 4, 7, 9, 12), T=8, total=None, extra="episode_01"), changes=("runs/n*",),
             expect=r"odd layout, accepted \(data\.accept_odd = yes\): 1 root object skipped \('episode_01'\); "
                    r"episode ids 0\.\.12 with 7 missing \(first: episode_1\)"),
        Case(5, "--accept-odd still refuses a total_episodes smaller than the episodes",
             info[:2] + ["--accept-odd", "x.h5"], setup=minari("x.h5", total=2),
             expect=r"attribute total_episodes = 2, but the file holds 3 episode_<n> groups; expected them to agree$"),
        Case(6, "a CSV without a header", IMPORT, setup=frames(["0.png", "1.png", "2.png"], csv=""),
             expect=r"a\.csv:1: header column 1: expected a button name, found '0' \(no header row\?"),
        Case(6, "duplicate button names", IMPORT, setup=frames(["0.png", "1.png"], csv="A,A\n"),
             expect=r"a\.csv:1: header: button name 'A' in columns 1 and 2; expected each name once"),
        Case(6, "a missing frame number", IMPORT, setup=frames(["f_0000.png", "f_0001.png", "f_0003.png"]),
             expect=r"frames/f_0003\.png: frame number 3 follows f_0001\.png \(number 1\); expected 2"),
        Case(6, "frame numbers without zero padding", IMPORT, setup=frames(["f_%d.png" % i for i in range(11)]),
             expect=r"frames/f_10\.png: frame number 10 follows f_1\.png \(number 1\); expected 2"),
        Case(6, "unnumbered frame names are taken in name order", IMPORT, outcome="accepted",
             setup=frames(["a.png", "b.png", "c.png"]), changes=("o.h5",)),
    ]
