"""Test fixture for virtual stores: edits the done records of an `edp run` output.

    virtual_fixture.py inject DEST MONTH[,MONTH...]
        sets `chunk_index` (read independently with h5py, see chunk_index.py) in the done
        records of the granules whose time_coverage_start falls in one of the months
        (1-based, any year), and removes it from every other done record
    virtual_fixture.py reprocess DEST GRANULE
        rewrites GRANULE with every floating data variable + 1 (a reprocessed granule with
        new bytes), then updates its done record: size, SHA-256, chunk index
    virtual_fixture.py upload DEST BUCKET PREFIX ENDPOINT
        copies DEST to s3://BUCKET/PREFIX on the S3 endpoint (moto), with the done records'
        granule paths rewritten to the s3:// locations

Prints what it did as JSON.
"""

import glob
import hashlib
import json
import os
import sys

import h5py
import numpy as np
import xarray as xr

sys.path.insert(0, os.path.dirname(__file__))
from chunk_index import chunk_index  # noqa: E402


def done_records(dest):
    for path in sorted(glob.glob(os.path.join(dest, "_edp", "done", "*.json"))):
        with open(path) as f:
            yield path, json.load(f)


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def coverage_month(granule):
    with h5py.File(granule, "r") as f:
        start = f.attrs["time_coverage_start"]
    start = start.decode() if isinstance(start, bytes) else str(start)
    return int(start[5:7])


def inject(dest, months):
    months = {int(m) for m in months.split(",")}
    injected = []
    for path, record in done_records(dest):
        granule = record["granule"]
        if coverage_month(granule) in months:
            record["chunk_index"] = chunk_index(granule)
            injected.append(granule)
        else:
            record.pop("chunk_index", None)
        write_json(path, record)
        ledger = os.path.join(dest, "_edp", "runs", record["run_id"], "ledger",
                              os.path.basename(path))
        if os.path.exists(ledger):
            write_json(ledger, record)
    return {"injected": injected}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def reprocess(dest, granule):
    with xr.open_dataset(granule, decode_cf=False) as ds:
        ds = ds.load()
    encoding = {}
    for name, var in ds.variables.items():
        enc = {k: v for k, v in var.encoding.items()
               if k in ("zlib", "complevel", "shuffle", "chunksizes", "contiguous", "dtype",
                        "_FillValue")}
        if name in ds.data_vars and var.dtype.kind == "f" and "time" in var.dims:
            fill = var.attrs.get("_FillValue", var.encoding.get("_FillValue"))
            values = var.values
            mask = values == fill if fill is not None else np.zeros(values.shape, bool)
            ds[name].values = np.where(mask, values, values + 1).astype(values.dtype)
        if "_FillValue" in var.attrs and np.isnan(var.attrs["_FillValue"]):
            del ds[name].attrs["_FillValue"]
        if "_FillValue" not in ds[name].attrs:
            enc["_FillValue"] = None  # xarray would add NaN fill values the original lacks
        encoding[name] = enc
    tmp = granule + ".reprocessed"
    ds.to_netcdf(tmp, format="NETCDF4", encoding=encoding)
    os.replace(tmp, granule)
    for path, record in done_records(dest):
        if record["granule"] == granule:
            record["output_bytes"] = os.path.getsize(granule)
            record["sha256"] = sha256(granule)
            record["chunk_index"] = chunk_index(granule)
            write_json(path, record)
            return {"reprocessed": granule, "size": record["output_bytes"]}
    raise SystemExit(f"no done record for {granule}")


def upload(dest, bucket, prefix, endpoint):
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint)
    if bucket not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
        s3.create_bucket(Bucket=bucket)
    dest = os.path.abspath(dest)
    count = 0
    for root, _dirs, files in os.walk(dest):
        for name in files:
            local = os.path.join(root, name)
            relative = os.path.relpath(local, dest)
            if relative.startswith(os.path.join("_edp", "virtual")):
                continue  # the stores are built on S3 by the test
            key = f"{prefix}/{relative}"
            if local.endswith(".json") and os.sep + "_edp" + os.sep in local:
                with open(local) as f:
                    record = json.load(f)
                if isinstance(record, dict) and isinstance(record.get("granule"), str):
                    record["granule"] = record["granule"].replace(
                        dest, f"s3://{bucket}/{prefix}", 1)
                s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(record).encode())
            else:
                # Granules are public, as behind an https:// distribution.
                s3.upload_file(local, bucket, key, ExtraArgs={"ACL": "public-read"})
            count += 1
    return {"uploaded": count}


def main(argv):
    if len(argv) == 3 and argv[0] == "inject":
        result = inject(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "reprocess":
        result = reprocess(argv[1], argv[2])
    elif len(argv) == 5 and argv[0] == "upload":
        result = upload(*argv[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
