"""fixture_io.py - writing the PyTorch reference fixtures (tests/make_*_fixtures.py).
Import after h5py, numpy and torch are known to be there."""
import numpy as np


def write_case(f, name, ints, tensors):
    """Group `name` of the open h5py file f: the int64 attributes `ints` and the float32
    datasets `tensors` (dicts name -> value; the tensors are detached)."""
    g = f.create_group(name)
    for k, v in ints.items():
        g.attrs[k] = np.int64(v)
    for k, v in tensors.items():
        g.create_dataset(k, data=v.detach().numpy().astype(np.float32))
    return g
