"""Prints the chunk index of NetCDF-4 granules as edp's `ChunkIndex` JSON.

An independent reader for tests: h5py's low-level API (H5Dget_chunk_info) gives every
stored chunk's byte offset and length, the filter pipeline and the layout, without edp's
code. Usage:

    chunk_index.py GRANULE.nc            -> one ChunkIndex JSON on stdout
    chunk_index.py --many A.nc B.nc ...  -> {"A.nc": ChunkIndex, ...}
"""

import base64
import json
import sys

import h5py
import numpy as np

# HDF5 and netCDF-4 bookkeeping attributes: not attributes of the netCDF data model.
INTERNAL_ATTRIBUTES = {
    "CLASS",
    "NAME",
    "REFERENCE_LIST",
    "DIMENSION_LIST",
    "_Netcdf4Dimid",
    "_Netcdf4Coordinates",
    "_NCProperties",
    "_FillValue",
    "_nc3_strict",
}
NETCDF_DIMENSION_ONLY = "This is a netCDF dimension but not a netCDF variable"
# Chunks of at most this many stored bytes carry them (edp_task_schemas::INLINE_CHUNK_MAX_BYTES).
INLINE_MAX = 64
FILTER_DEFLATE = 1
FILTER_SHUFFLE = 2


def json_value(value):
    """A NetCDF attribute value as JSON (numbers, strings, arrays of numbers)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        if value.dtype.kind in ("S", "O", "U"):
            items = [json_value(v) for v in value.tolist()]
            return items[0] if len(items) == 1 else items
        items = [json_value(v) for v in value.tolist()]
        return items[0] if len(items) == 1 else items
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        raise ValueError(f"non-finite attribute value {value}")
    return value


def attributes(obj):
    return {
        name: json_value(obj.attrs[name])
        for name in obj.attrs
        if name not in INTERNAL_ATTRIBUTES
    }


def filters(dataset):
    plist = dataset.id.get_create_plist()
    out = []
    for i in range(plist.get_nfilters()):
        code, _flags, values, name = plist.get_filter(i)
        if code == FILTER_SHUFFLE:
            out.append({"id": "shuffle", "element_size": int(dataset.dtype.itemsize)})
        elif code == FILTER_DEFLATE:
            out.append({"id": "deflate", "level": int(values[0]) if values else 0})
        else:
            raise ValueError(f"{dataset.name}: unsupported HDF5 filter {code} ({name!r})")
    return out


def with_inline(path, chunk):
    """edp's rule: a chunk of at most INLINE_MAX stored bytes carries them, base64."""
    if chunk["length"] <= INLINE_MAX:
        with open(path, "rb") as raw:
            raw.seek(chunk["offset"])
            chunk["inline"] = base64.b64encode(raw.read(chunk["length"])).decode()
    return chunk


def chunks(dataset):
    if dataset.chunks is None:
        offset = dataset.id.get_offset()
        if offset is None:
            return []  # never written
        return [with_inline(dataset.file.filename, {
            "index": [0] * dataset.ndim,
            "offset": int(offset),
            "length": int(dataset.id.get_storage_size()),
        })]
    out = []
    for i in range(dataset.id.get_num_chunks()):
        info = dataset.id.get_chunk_info(i)
        if info.filter_mask != 0:
            raise ValueError(f"{dataset.name}: chunk {i} skipped a filter")
        index = [int(o) // int(c) for o, c in zip(info.chunk_offset, dataset.chunks)]
        out.append(with_inline(dataset.file.filename, {
            "index": index, "offset": int(info.byte_offset), "length": int(info.size),
        }))
    out.sort(key=lambda c: c["index"])
    return out


def variable(name, dataset):
    dims = []
    for i, dim in enumerate(dataset.dims):
        if len(dim):
            dims.append(dim[0].name.rsplit("/", 1)[-1])
        elif i == 0 and dataset.is_scale:
            dims.append(name)  # a coordinate variable is its own dimension scale
        else:
            raise ValueError(f"{dataset.name}: dimension {i} has no dimension scale")
    entry = {
        "name": name,
        "dimensions": dims,
        "shape": [int(n) for n in dataset.shape],
        "dtype": dataset.dtype.str,
        "filters": filters(dataset),
        "attributes": attributes(dataset),
        "chunks": chunks(dataset),
    }
    if dataset.chunks is not None:
        entry["chunk_shape"] = [int(c) for c in dataset.chunks]
    if "_FillValue" in dataset.attrs:
        fill = float(np.asarray(dataset.attrs["_FillValue"]).ravel()[0])
        if not np.isfinite(fill):
            raise ValueError(f"{dataset.name}: non-finite _FillValue {fill} (JSON cannot hold it)")
        entry["fill_value"] = fill
    return entry


def chunk_index(path):
    with h5py.File(path, "r") as f:
        variables = []
        for name, obj in f.items():
            if not isinstance(obj, h5py.Dataset):
                continue
            if json_value(obj.attrs.get("NAME", b"")) .startswith(NETCDF_DIMENSION_ONLY):
                continue
            variables.append(variable(name, obj))
        return {"attributes": attributes(f), "variables": variables}


def main(argv):
    if argv and argv[0] == "--many":
        print(json.dumps({path: chunk_index(path) for path in argv[1:]}))
    elif len(argv) == 1:
        print(json.dumps(chunk_index(argv[0])))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
