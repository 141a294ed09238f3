#!/usr/bin/env python3
"""Compares granules written by the direct chunk path with the same granules written through
netCDF-C's own compression, and checks the chunk index recorded for them against h5py.

Usage: compare_write_paths.py DIRECT.nc NETCDF_C.nc INDEX.json [DIRECT.nc NETCDF_C.nc INDEX.json ...]

For each triple:
* every variable read back by netCDF4-python (raw, no masking or scaling), by xarray
  (decode_cf) and by h5py has the same shape, dtype and bytes in both files;
* `ncdump -hs` prints the same header (chunk sizes, _Shuffle, _DeflateLevel, fill values,
  attributes), apart from the per-file `uuid`, creation dates and the file name;
* the chunk index (written by edp from HDF5's H5Dget_chunk_info) lists every variable of the
  file in order with h5py's dimensions, shape, dtype, chunk shape, filters, fill value and
  attributes, and every stored chunk with h5py's byte offset and length; the bytes at those
  offsets, inflated and unshuffled, are the chunk's values.
Exits non-zero with a list of differences.
"""
import base64
import json
import subprocess
import sys
import zlib

import h5py
import netCDF4
import numpy as np
import xarray as xr

# Attributes that differ between any two productions of the same granule.
# Chunks of at most this many stored bytes carry them in the index (edp_task_schemas::
# INLINE_CHUNK_MAX_BYTES).
INLINE_MAX = 64
PER_FILE = {"uuid", "date_created", "date_modified", "date_metadata_modified", "date_issued"}


def same_bytes(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def header(path):
    out = subprocess.run(["ncdump", "-hs", path], check=True, capture_output=True, text=True).stdout
    lines = out.splitlines()[1:]  # the first line names the file
    return [l for l in lines if not any(f":{k} =" in l or f"\t{k} =" in l for k in PER_FILE)]


def json_equal(expected, found):
    """netCDF attribute value vs its JSON form in the index."""
    if isinstance(expected, (bytes, str)):
        return found == (expected.decode() if isinstance(expected, bytes) else expected)
    arr = np.atleast_1d(np.asarray(expected))
    if arr.dtype.kind in "US":
        return list(arr.astype(str)) == (found if isinstance(found, list) else [found])
    values = np.atleast_1d(np.asarray(found, dtype=np.float64))
    return values.shape == arr.shape and np.array_equal(values, arr.astype(np.float64))


def compare(direct, reference, index_path, problems):
    def fail(msg):
        problems.append(f"{direct}: {msg}")

    # netCDF4-python, raw values.
    with netCDF4.Dataset(direct) as d, netCDF4.Dataset(reference) as r:
        if list(d.variables) != list(r.variables):
            fail(f"variables {list(d.variables)} vs {list(r.variables)}")
        for name in r.variables:
            dv, rv = d.variables[name], r.variables[name]
            dv.set_auto_maskandscale(False)
            rv.set_auto_maskandscale(False)
            if not same_bytes(dv[...], rv[...]):
                fail(f"netCDF4: values of {name} differ")
    # xarray with CF decoding.
    with xr.open_dataset(direct) as d, xr.open_dataset(reference) as r:
        for name in r.variables:
            if not same_bytes(d[name].values, r[name].values):
                fail(f"xarray: values of {name} differ")
    # h5py, raw.
    with h5py.File(direct, "r") as d, h5py.File(reference, "r") as r:
        for name in r:
            if isinstance(r[name], h5py.Dataset) and not same_bytes(d[name][()], r[name][()]):
                fail(f"h5py: values of {name} differ")
    if header(direct) != header(reference):
        import difflib
        diff = "\n".join(difflib.unified_diff(header(reference), header(direct), lineterm="", n=0))
        fail(f"ncdump -hs differs:\n{diff}")

    # The chunk index against h5py (and netCDF4 for dimension names and attributes).
    with open(index_path) as f:
        index = json.load(f)
    with netCDF4.Dataset(direct) as nc, h5py.File(direct, "r") as h5, open(direct, "rb") as raw:
        if [v["name"] for v in index["variables"]] != list(nc.variables):
            fail(f"index variables {[v['name'] for v in index['variables']]} vs {list(nc.variables)}")
        for key in nc.ncattrs():
            if key not in index["attributes"] or not json_equal(nc.getncattr(key), index["attributes"][key]):
                fail(f"global attribute {key}: {nc.getncattr(key)!r} vs {index['attributes'].get(key)!r}")
        if list(index["attributes"]) != nc.ncattrs():
            fail("global attribute order differs")
        for entry in index["variables"]:
            name = entry["name"]
            var, ds = nc.variables[name], h5[name]
            if entry["dimensions"] != list(var.dimensions):
                fail(f"{name}: dimensions {entry['dimensions']} vs {list(var.dimensions)}")
            if tuple(entry["shape"]) != ds.shape:
                fail(f"{name}: shape {entry['shape']} vs {ds.shape}")
            if np.dtype(entry["dtype"]) != ds.dtype:
                fail(f"{name}: dtype {entry['dtype']} vs {ds.dtype}")
            chunk_shape = entry.get("chunk_shape")
            if (tuple(chunk_shape) if chunk_shape else None) != ds.chunks:
                fail(f"{name}: chunk shape {chunk_shape} vs {ds.chunks}")
            expected_filters = []
            if ds.shuffle:
                expected_filters.append({"id": "shuffle", "element_size": ds.dtype.itemsize})
            if ds.compression == "gzip":
                expected_filters.append({"id": "deflate", "level": ds.compression_opts})
            if entry["filters"] != expected_filters:
                fail(f"{name}: filters {entry['filters']} vs {expected_filters}")
            attrs = {k: var.getncattr(k) for k in var.ncattrs()}
            fill = attrs.pop("_FillValue", None)
            if (fill is None) != (entry.get("fill_value") is None) or (
                fill is not None and float(np.float64(fill)) != entry["fill_value"]
            ):
                fail(f"{name}: fill value {entry.get('fill_value')} vs {fill}")
            if list(entry["attributes"]) != list(attrs):
                fail(f"{name}: attribute names {list(entry['attributes'])} vs {list(attrs)}")
            for key, value in attrs.items():
                if not json_equal(value, entry["attributes"].get(key)):
                    fail(f"{name}: attribute {key} {entry['attributes'].get(key)!r} vs {value!r}")
            # Chunk locations.
            if ds.chunks is None:
                offset = ds.id.get_offset()
                expected = [] if offset is None else [([0] * ds.ndim, offset, ds.id.get_storage_size())]
            else:
                expected = []
                for i in range(ds.id.get_num_chunks()):
                    info = ds.id.get_chunk_info(i)
                    position = [o // c for o, c in zip(info.chunk_offset, ds.chunks)]
                    expected.append((position, info.byte_offset, info.size))
                expected.sort()
            found = [(c["index"], c["offset"], c["length"]) for c in entry["chunks"]]
            if found != expected:
                fail(f"{name}: chunks {found[:3]}... vs h5py {expected[:3]}...")
                continue
            # Small chunks carry their stored bytes (base64), exactly the bytes at their place.
            for chunk in entry["chunks"]:
                raw.seek(chunk["offset"])
                stored = raw.read(chunk["length"])
                want = base64.b64encode(stored).decode() if chunk["length"] <= INLINE_MAX else None
                if chunk.get("inline") != want:
                    fail(f"{name}: chunk {chunk['index']} inline {chunk.get('inline')!r} vs {want!r}")
            # The bytes at the recorded place decode to the chunk's values.
            for position, offset, length in found:
                raw.seek(offset)
                data = raw.read(length)
                if ds.compression == "gzip":
                    data = zlib.decompress(data)
                size = ds.dtype.itemsize
                if ds.shuffle:
                    n = len(data) // size
                    data = np.frombuffer(data, np.uint8).reshape(size, n).T.tobytes()
                shape = ds.chunks or ds.shape
                values = np.frombuffer(data, ds.dtype).reshape(shape)
                sel = tuple(slice(p * c, min((p + 1) * c, s)) for p, c, s in zip(position, shape, ds.shape))
                inside = tuple(slice(0, s.stop - s.start) for s in sel)
                if not same_bytes(values[inside], ds[sel]):
                    fail(f"{name}: chunk {position} at {offset} does not decode to its values")


def main():
    args = sys.argv[1:]
    if not args or len(args) % 3:
        sys.exit(__doc__)
    problems = []
    for i in range(0, len(args), 3):
        compare(args[i], args[i + 1], args[i + 2], problems)
    for p in problems:
        print(p)
    n = len(args) // 3
    print(f"{n} granule pair(s) compared, {len(problems)} difference(s)")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
