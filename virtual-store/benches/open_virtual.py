"""Benchmark program (prints figures, asserts nothing): opening a dataset through its virtual
store versus `xarray.open_mfdataset` of its granules, and reading one point's full time series.

    open_virtual.py EDP_BIN WORKDIR [GRANULES]   (default 10000)

Writes GRANULES small NetCDF-4 granules (SSH(time=1, tile=13, j=30, i=30), deflate + shuffle,
plus XC/YC coordinates) below WORKDIR/products in edp's layout, their done records with the
chunk index read by tests/python/chunk_index.py, builds the store with `edp virtual`, then
times opening the dataset and reading SSH[:, 5, 10, 10] through the kerchunk JSON and
the Parquet references and the Icechunk repository (with and without dask), through a real
Zarr store with the same chunks (the floor for zarr-python reading 10,000 one-step chunks) and
through `open_mfdataset`.
"""

import hashlib
import json
import os
import subprocess
import sys
import time

import fsspec
import netCDF4
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "python"))
from chunk_index import chunk_index  # noqa: E402

DATASET = "V4r4/native/mon_mean/SEA_SURFACE_HEIGHT"


def write_granule(path, k):
    ds = netCDF4.Dataset(path, "w")
    for name, n in (("time", 1), ("tile", 13), ("j", 30), ("i", 30), ("nv", 2)):
        ds.createDimension(name, n)
    t = ds.createVariable("time", "f8", ("time",))
    t.units = "days since 1992-01-01"
    # One day apart: 10,000 steps stay inside numpy's datetime64 range (monthly steps would
    # reach the year 2825, where xarray falls back to cftime per file).
    t[:] = [k + 0.5]
    xc = ds.createVariable("XC", "f4", ("tile", "j", "i"))
    xc[:] = np.linspace(-180, 180, 13 * 900, dtype="f4").reshape(13, 30, 30)
    ssh = ds.createVariable("SSH", "f4", ("time", "tile", "j", "i"), zlib=True, complevel=5,
                            shuffle=True, chunksizes=(1, 13, 30, 30), fill_value=np.float32(9.96921e36))
    ssh.coordinates = "XC"
    ssh[:] = (np.sin(np.arange(13 * 900, dtype="f4") / 50 + k) * 0.5).reshape(1, 13, 30, 30)
    year, month = 1992 + k // 12, k % 12 + 1
    ds.time_coverage_start = f"{year:04d}-{month:02d}-01T00:00:00"
    ds.close()


def folder_bytes(folder):
    """Bytes of every file below `folder`."""
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, names in os.walk(folder)
               for f in names)


def main(argv):
    edp, work = argv[0], argv[1]
    n = int(argv[2]) if len(argv) > 2 else 10000
    dest = os.path.abspath(os.path.join(work, "products"))
    folder = os.path.join(dest, DATASET)
    done = os.path.join(dest, "_edp", "done")
    os.makedirs(folder, exist_ok=True)
    os.makedirs(done, exist_ok=True)
    files = []
    start = time.perf_counter()
    for k in range(n):
        year, month = 1992 + k // 12, k % 12 + 1
        path = os.path.join(folder, f"SSH_mon_mean_{year:04d}-{month:02d}_ECCO_V4r4_native_llc0030.nc")
        files.append(path)
        if os.path.exists(os.path.join(done, f"t{k:06d}.json")):
            continue
        write_granule(path, k)
        record = {"task_id": f"t{k:06d}", "granule": path, "run_id": "bench", "status": "done",
                  "software_version": "bench", "output_bytes": os.path.getsize(path),
                  "sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
                  "chunk_index": chunk_index(path)}
        with open(os.path.join(done, f"t{k:06d}.json"), "w") as f:
            json.dump(record, f)
    print(f"{n} granules and done records ready in {time.perf_counter() - start:.1f} s")

    start = time.perf_counter()
    subprocess.run([edp, "virtual", "--dest", dest, "--rebuild"], check=True, stdout=subprocess.DEVNULL)
    print(f"edp virtual --rebuild from {n} done records: {time.perf_counter() - start:.2f} s")
    refs = os.path.join(dest, "_edp", "virtual", DATASET, "refs.json")
    print(f"refs.json: {os.path.getsize(refs)} bytes ({os.path.getsize(refs) / n:.0f} B/granule), "
          f"state.json: {os.path.getsize(os.path.join(os.path.dirname(refs), 'state.json'))} bytes")

    parquet = os.path.join(os.path.dirname(refs), "refs.parq")
    print(f"refs.parq: {folder_bytes(parquet)} bytes ({folder_bytes(parquet) / n:.0f} B/granule)")

    # Each store opened two ways: with dask (chunks="auto": dask chunks of many store chunks, as
    # the README shows; chunks={}, one dask task per chunk, read the series 2.7 times slower)
    # and without
    # (zarr reads the point's chunks concurrently itself).
    timings = {}
    for label, fo in (("refs.json", refs), ("refs.parq", parquet)):
        for dask in (True, False):
            start = time.perf_counter()
            fs = fsspec.filesystem("reference", fo=fo, remote_protocol="file",
                                   skip_instance_cache=True)
            virtual = xr.open_dataset(fs.get_mapper(""), engine="zarr", consolidated=False,
                                      zarr_format=2, chunks="auto" if dask else None)
            opened = time.perf_counter() - start
            series = virtual["SSH"][:, 5, 10, 10].values
            total = time.perf_counter() - start
            how = f"{label}, {'dask' if dask else 'no dask'}"
            timings[how] = (total, series, virtual["time"].values)
            print(f"virtual store ({how}): open {opened:.2f} s, "
                  f"open + point time series {total:.2f} s")

    # The Icechunk repository beside them (icechunk-python; the granules' folder authorized).
    import icechunk

    icechunk.set_logs_filter("error")
    repo_dir = os.path.join(os.path.dirname(refs), "icechunk")
    print(f"icechunk/: {folder_bytes(repo_dir)} bytes ({folder_bytes(repo_dir) / n:.0f} B/granule)")
    container = f"file://{os.path.abspath(dest)}/"
    # icechunk-python 2.x authorizes local files with a sentinel; 1.x with None.
    local_access = getattr(getattr(icechunk, "credentials", None), "LocalFileSystemAccess", None)
    for dask in (True, False):
        start = time.perf_counter()
        repo = icechunk.Repository.open(
            icechunk.local_filesystem_storage(repo_dir),
            authorize_virtual_chunk_access=icechunk.containers_credentials({container: local_access}),
        )
        virtual = xr.open_zarr(repo.readonly_session(branch="main").store, consolidated=False,
                               zarr_format=3, chunks="auto" if dask else None)
        opened = time.perf_counter() - start
        series = virtual["SSH"][:, 5, 10, 10].values
        total = time.perf_counter() - start
        how = f"icechunk, {'dask' if dask else 'no dask'}"
        timings[how] = (total, series, virtual["time"].values)
        print(f"virtual store ({how}): open {opened:.2f} s, open + point time series {total:.2f} s")

    # The floor for any store of these chunks: a real (not virtual) Zarr store on local disk
    # with the same chunking and codecs, written by zarr-python and read the same way. If it
    # reads the series no faster than the virtual stores, the time is zarr's per-chunk work,
    # not the references.
    copy = os.path.join(work, "same_chunks.zarr")
    if not os.path.exists(os.path.join(copy, "SSH", ".zarray")):
        from numcodecs import Shuffle, Zlib
        import zarr

        root = zarr.open_group(copy, mode="w", zarr_format=2)
        same = root.create_array("SSH", shape=(n, 13, 30, 30), chunks=(1, 13, 30, 30),
                                 dtype="f4", compressors=Zlib(level=5),
                                 filters=[Shuffle(elementsize=4)])
        same.attrs["_ARRAY_DIMENSIONS"] = ["time", "tile", "j", "i"]
        base = np.arange(13 * 900, dtype="f4") / 50
        for k in range(0, n, 500):
            # The granules' values, computed as `write_granule` does (float32 throughout).
            same[k:min(n, k + 500)] = np.stack(
                [(np.sin(base + step) * 0.5).reshape(13, 30, 30) for step in range(k, min(n, k + 500))])
    start = time.perf_counter()
    zarr_series = xr.open_zarr(copy, consolidated=False, zarr_format=2, chunks=None)
    zarr_series = zarr_series["SSH"][:, 5, 10, 10].values
    zarr_total = time.perf_counter() - start
    print(f"Zarr store with the same chunks (a copy on local disk, for comparison): "
          f"open + point time series {zarr_total:.2f} s")

    start = time.perf_counter()
    real = xr.open_mfdataset(files, combine="nested", concat_dim="time", data_vars="minimal",
                             coords="minimal", compat="override", engine="netcdf4")
    opened = time.perf_counter() - start
    series_r = real["SSH"][:, 5, 10, 10].values
    mf_total = time.perf_counter() - start
    print(f"open_mfdataset: open {opened:.2f} s, open + point time series {mf_total:.2f} s")
    same = True
    for how, (total, series, times) in timings.items():
        agree = np.array_equal(series, series_r) and np.array_equal(times, real["time"].values)
        same &= agree
        print(f"{how}: same series and time axis: {agree}; speed-up {mf_total / total:.1f}x "
              "(goal >= 20x)")
    agree = np.array_equal(zarr_series, series_r)
    same &= agree
    print(f"Zarr copy: same series: {agree}; speed-up {mf_total / zarr_total:.1f}x")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
