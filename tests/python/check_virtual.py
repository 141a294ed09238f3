"""Checks a kerchunk virtual store against the granules it references, with real readers.

    check_virtual.py REFS GRANULE.nc... [--s3-endpoint URL]

REFS is a local path or an s3:// URL (read with boto3 from --s3-endpoint) of a `refs.json`
whose granule URLs are local paths or http(s) URLs. The store is opened with xarray's zarr
engine on fsspec's reference file system; the granules (local files, in the expected time
order) with `xarray.open_mfdataset` (the one granule of a time-invariant dataset, which has no
time axis, with `xarray.open_dataset`). Every variable and coordinate must have the same
dimensions and values (NaN where the other has NaN), and the same attributes as decoded by
xarray. The Parquet reference folder beside REFS (`refs.parq/` next to `refs.json`, on disk or
on S3, where it is copied to a scratch folder first) is checked the same way through fsspec's
lazy Parquet references (fastparquet), when its granule URLs are local paths or http(s). The
Icechunk repository beside REFS (`icechunk/` next to `refs.json`) is opened with
icechunk-python and checked the same way. Prints a one-line JSON summary (`parquet`: whether
the Parquet references were checked; `icechunk_commits`: the commits on the repository's
`main` branch, `null` when there is none); exits 1 with the first difference.
"""

import argparse
import json
import os
import re
import sys
import tempfile

import fsspec
import numpy as np
import xarray as xr


def load_refs(refs, endpoint):
    """The references as a dict: a local file, or an s3:// object fetched with boto3."""
    if refs.startswith("s3://"):
        import boto3

        bucket, key = refs[len("s3://"):].split("/", 1)
        s3 = boto3.client("s3", endpoint_url=endpoint)
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    with open(refs) as f:
        return json.load(f)


def url_scheme(refs):
    """The protocol of the granule URLs in the references (`file`, `http`, `https`, `s3`)."""
    for value in refs["refs"].values():
        if isinstance(value, list):
            url = value[0]
            return url.split("://", 1)[0] if "://" in url else "file"
    return "file"


def open_references(fo, scheme):
    """xarray on fsspec's reference file system: `fo` is the kerchunk references as a dict, or
    the path of a Parquet reference folder (LazyReferenceMapper, fastparquet); `scheme` is the
    protocol of the granule URLs."""
    if scheme in ("http", "https"):
        # zarr reads through an asynchronous file system; the http one must be too.
        import zarr

        fs = fsspec.filesystem(
            "reference", fo=fo, remote_protocol=scheme, asynchronous=True,
            remote_options={"asynchronous": True}, skip_instance_cache=True,
        )
        store = zarr.storage.FsspecStore(fs, read_only=True, path="")
    else:
        fs = fsspec.filesystem(
            "reference", fo=fo, remote_protocol=scheme, skip_instance_cache=True
        )
        store = fs.get_mapper("")
    return xr.open_dataset(store, engine="zarr", consolidated=False, zarr_format=2, chunks={})


def parquet_dir(refs, endpoint, scratch):
    """The Parquet reference folder beside `refs*.json` (`refs.parq/` next to `refs.json`),
    when there is one: a local folder, or the objects below an s3:// one copied into
    `scratch` with boto3 (fsspec then reads them as a local folder)."""
    if not refs.endswith(".json"):
        return None
    folder = refs[: -len(".json")] + ".parq"
    if not folder.startswith("s3://"):
        return folder if os.path.isfile(os.path.join(folder, ".zmetadata")) else None
    import boto3

    bucket, prefix = folder[len("s3://"):].split("/", 1)
    s3 = boto3.client("s3", endpoint_url=endpoint)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + "/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    if prefix + "/.zmetadata" not in keys:
        return None
    for key in keys:
        local = os.path.join(scratch, key[len(prefix) + 1:])
        os.makedirs(os.path.dirname(local), exist_ok=True)
        s3.download_file(bucket, key, local)
    return scratch


def icechunk_repo(refs, endpoint):
    """The Icechunk repository beside `refs*.json` (`icechunk/` next to `refs.json`,
    `icechunk.https/` next to `refs.https.json`) opened with icechunk-python, its `main`
    branch read-only as an xarray Dataset; `None` when there is no repository. Chunks are
    read through the repository's virtual chunk container, which the check authorizes
    (local files, or S3 with the endpoint's credentials from the environment)."""
    import icechunk

    # Icechunk's own log lines go to stdout, where this script prints its result.
    icechunk.set_logs_filter("error")
    if not refs.endswith(".json"):
        return None
    name = os.path.basename(refs)[: -len(".json")].replace("refs", "icechunk", 1)
    folder = os.path.join(os.path.dirname(refs), name) if not refs.startswith("s3://") \
        else refs.rsplit("/", 1)[0] + "/" + name
    if folder.startswith("s3://"):
        import boto3

        bucket, prefix = folder[len("s3://"):].split("/", 1)
        s3 = boto3.client("s3", endpoint_url=endpoint)
        if s3.list_objects_v2(Bucket=bucket, Prefix=prefix + "/", MaxKeys=1).get("KeyCount", 0) == 0:
            return None
        storage = icechunk.s3_storage(
            bucket=bucket, prefix=prefix, endpoint_url=endpoint, allow_http=True,
            force_path_style=True, region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            from_env=True,
        )
    else:
        if not os.path.isdir(folder):
            return None
        storage = icechunk.local_filesystem_storage(folder)
    config = icechunk.Repository.fetch_config(storage)
    prefixes = list((config.virtual_chunk_containers or {}).keys()) if config else []
    # icechunk-python 2.x authorizes local files with a sentinel (1.x: with None, which 2.x
    # still takes but deprecates).
    local_access = getattr(getattr(icechunk, "credentials", None), "LocalFileSystemAccess", None)
    credentials = {
        p: icechunk.s3_from_env_credentials() if p.startswith("s3://") else local_access
        for p in prefixes
    }
    repo = icechunk.Repository.open(
        storage, authorize_virtual_chunk_access=icechunk.containers_credentials(credentials)
    )
    session = repo.readonly_session(branch="main")
    dataset = xr.open_zarr(session.store, consolidated=False, zarr_format=3, chunks={})
    history = list(repo.ancestry(branch="main"))
    return dataset, history, set(session.all_virtual_chunk_locations())


def icechunk_version():
    """The version of icechunk-python that read the repository (1.x and 2.x both must)."""
    import icechunk

    return icechunk.__version__


def differences(virtual, real, what):
    """Every way `virtual` differs from the granules `real` (names, dimensions, values with
    NaN equal to NaN, attributes)."""
    problems = []
    names_v = set(virtual.variables)
    names_r = set(real.variables)
    if names_v != names_r:
        problems.append(f"variables differ: {what} {sorted(names_v)} granules {sorted(names_r)}")
    for name in sorted(names_v & names_r):
        v, r = virtual[name], real[name]
        if v.dims != r.dims or v.shape != r.shape:
            problems.append(f"{name}: {what} {v.dims}{v.shape}, granules {r.dims}{r.shape}")
            continue
        try:
            np.testing.assert_array_equal(v.values, r.values, err_msg=name)
        except AssertionError as err:
            problems.append(str(err).strip().splitlines()[0] + f" ({name}, {what})")
        for key, value in r.attrs.items():
            if key not in v.attrs or not same_attribute(v.attrs[key], value):
                problems.append(
                    f"{name}: attribute {key} {what} {v.attrs.get(key)!r} granules {value!r}"
                )
    return problems


def structure_differences(virtual, real):
    """Names, dimensions and shapes of `virtual` against the granules."""
    problems = []
    if set(virtual.variables) != set(real.variables):
        problems.append(f"icechunk variables {sorted(virtual.variables)} granules {sorted(real.variables)}")
    for name in set(virtual.variables) & set(real.variables):
        v, r = virtual[name], real[name]
        if v.dims != r.dims or v.shape != r.shape:
            problems.append(f"{name}: icechunk {v.dims}{v.shape}, granules {r.dims}{r.shape}")
    return problems


def same_attribute(stored, expected):
    """Attribute values are equal; floats within 4 ULP of float64, because JSON numbers pass
    through serde_json's default (not correctly rounded) float parser on their way from the
    ledger into the references."""
    a, b = np.asarray(stored), np.asarray(expected)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=4 * np.finfo("f8").eps, atol=0))
    return bool(np.array_equal(a, b))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("refs")
    parser.add_argument("granules", nargs="*")
    parser.add_argument("--s3-endpoint")
    parser.add_argument("--urls-only", action="store_true",
                        help="only print the granule URLs the references point at")
    args = parser.parse_args()

    refs = load_refs(args.refs, args.s3_endpoint)
    if args.urls_only:
        urls = sorted({v[0] for v in refs["refs"].values() if isinstance(v, list)})
        print(json.dumps({"urls": urls}))
        return 0
    with xr.open_dataset(args.granules[0], engine="netcdf4") as first:
        time_axis = "time" in first.dims
    if time_axis:
        real = xr.open_mfdataset(
            args.granules,
            combine="nested",
            concat_dim="time",
            data_vars="minimal",
            coords="minimal",
            compat="override",
            engine="netcdf4",
        )
    elif len(args.granules) == 1:
        # A time-invariant dataset: its one granule.
        real = xr.open_dataset(args.granules[0], engine="netcdf4")
    else:
        print(f"{len(args.granules)} granules without a time axis", file=sys.stderr)
        return 1
    scheme = url_scheme(refs)
    problems = []
    virtual = None
    if scheme != "s3":
        # (Granules on s3:// would need s3fs, which the checks do not install: their
        # references are checked through the Icechunk repository beside them.)
        virtual = open_references(refs, scheme)
        problems += differences(virtual, real, "store")
    # The Parquet references beside a local refs.json (refs.parq/ next to refs.json,
    # refs.https.parq/ next to refs.https.json) must open to the same dataset.
    with tempfile.TemporaryDirectory() as scratch:
        parquet = None
        if scheme in ("file", "http", "https"):
            parquet = parquet_dir(args.refs, args.s3_endpoint, scratch)
        if parquet is not None:
            problems += differences(open_references(parquet, scheme), real, "parquet store")
    icechunk_commits = None
    opened = icechunk_repo(args.refs, args.s3_endpoint)
    if opened is not None:
        repo_dataset, history, locations = opened
        icechunk_commits = len(history)
        urls = {v[0] for v in refs["refs"].values() if isinstance(v, list)}
        # The repository's locations are URLs (file:// for local paths); icechunk-python 1.x
        # reports http(s) locations without their port.
        with_port = scheme in ("http", "https") and any(":" in u.split("/")[2] for u in urls)
        expected = {
            "file://" + u if scheme == "file"
            else re.sub(r"^(https?://[^/:]+):\d+/", r"\1/", u) if with_port
            else u
            for u in urls
        }
        if locations != expected:
            problems.append(f"icechunk repository points at {sorted(locations)}, "
                            f"the references at {sorted(expected)}")
        if with_port:
            # ... and, having dropped the port, finds no container for such a chunk: a
            # repository of an emulator's http URLs is checked by its chunk locations and
            # structure only.
            problems += structure_differences(repo_dataset, real)
        else:
            problems += differences(repo_dataset, real, "icechunk repository")
        virtual = repo_dataset if virtual is None else virtual
    if virtual is None:
        problems.append(f"{args.refs}: s3:// references without an Icechunk repository beside them")
        print("\n".join(problems), file=sys.stderr)
        return 1
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    names_v = set(virtual.variables)
    print(json.dumps({
        "parquet": parquet is not None,
        "icechunk_commits": icechunk_commits,
        "icechunk_python": icechunk_version(),
        "variables": len(names_v),
        "times": int(virtual.sizes.get("time", 0)),
        "time_values": [str(t) for t in virtual["time"].values] if "time" in virtual else [],
        "scheme": url_scheme(refs),
        "vertical": any(d in ("k", "Z") for v in virtual.data_vars.values() for d in v.dims),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
