"""Benchmark program (prints figures, asserts nothing): the granules of `open_virtual.py` served
over HTTP by an object store, as readers in the cloud see them. One point's time series over the
first GRANULES granules (default 1,000) through the virtual store's `refs.https.json` versus
`open_mfdataset` of the same granules opened by netCDF-C over HTTP byte ranges (`#mode=bytes`).

    open_virtual_http.py EDP_BIN WORKDIR [GRANULES]   (WORKDIR as prepared by open_virtual.py)

The object store is moto's S3 server on this machine (`EDP_MOTO_SERVER` or `moto_server` on the
PATH), the granules uploaded public-read so that plain HTTP readers get them. Its requests take
milliseconds where S3's take tens of milliseconds, so it understates what the many small reads of
opening each granule cost against the store's one read per chunk.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
import fsspec
import numpy as np
import xarray as xr
import zarr

DATASET = "V4r4/native/mon_mean/SEA_SURFACE_HEIGHT"
BUCKET = "bench"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    server = os.environ.get("EDP_MOTO_SERVER") or shutil.which("moto_server")
    if server is None:
        sys.exit("moto_server not found (set EDP_MOTO_SERVER)")
    port = free_port()
    process = subprocess.Popen([server, "-p", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)
            return process, endpoint
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit(f"moto_server did not answer on {endpoint}")


def main(argv):
    edp, work = argv[0], argv[1]
    n = int(argv[2]) if len(argv) > 2 else 1000
    dest = os.path.abspath(os.path.join(work, "products"))
    folder = os.path.join(dest, DATASET)
    granules = sorted(os.listdir(folder))[:n]
    if len(granules) < n:
        sys.exit(f"{folder} holds {len(granules)} granules; run open_virtual.py first")
    moto, endpoint = start_moto()
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
        s3.create_bucket(Bucket=BUCKET)
        start = time.perf_counter()

        def upload(name):
            with open(os.path.join(folder, name), "rb") as body:
                s3.put_object(Bucket=BUCKET, Key=f"products/{DATASET}/{name}", Body=body,
                              ACL="public-read")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(upload, granules))
        print(f"{n} granules uploaded to moto in {time.perf_counter() - start:.1f} s")

        base = f"{endpoint}/{BUCKET}/products"
        subprocess.run([edp, "virtual", "--dest", dest, "--rebuild", "--https-base", base],
                       check=True, stdout=subprocess.DEVNULL)
        refs = os.path.join(dest, "_edp", "virtual", DATASET, "refs.https.json")
        with open(refs) as f:
            first = json.load(f)["refs"]["SSH/0.0.0.0"]
        print(f"refs.https.json: first chunk at {first[0]}")

        timings = {}
        for dask in (False, True):
            start = time.perf_counter()
            # zarr reads through an asynchronous file system; the http one must be too.
            fs = fsspec.filesystem("reference", fo=refs, remote_protocol="http",
                                   asynchronous=True, remote_options={"asynchronous": True},
                                   skip_instance_cache=True)
            store = zarr.storage.FsspecStore(fs, read_only=True, path="")
            virtual = xr.open_dataset(store, engine="zarr", consolidated=False, zarr_format=2,
                                      chunks="auto" if dask else None)
            series = virtual["SSH"][:n, 5, 10, 10].values
            total = time.perf_counter() - start
            how = "dask" if dask else "no dask"
            timings[how] = (total, series)
            print(f"virtual store over HTTP ({how}): open + point time series of {n} steps "
                  f"{total:.2f} s")

        urls = [f"{base}/{DATASET}/{name}#mode=bytes" for name in granules]
        start = time.perf_counter()
        real = xr.open_mfdataset(urls, combine="nested", concat_dim="time", data_vars="minimal",
                                 coords="minimal", compat="override", engine="netcdf4")
        opened = time.perf_counter() - start
        series_r = real["SSH"][:, 5, 10, 10].values
        mf_total = time.perf_counter() - start
        print(f"open_mfdataset over HTTP: open {opened:.2f} s, open + point time series "
              f"{mf_total:.2f} s")
        same = True
        for how, (total, series) in timings.items():
            agree = np.array_equal(series, series_r)
            same &= agree
            print(f"{how}: same series: {agree}; speed-up {mf_total / total:.1f}x (goal >= 20x)")
        return 0 if same else 1
    finally:
        moto.terminate()
        moto.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
