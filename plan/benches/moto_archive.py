"""A moto S3 server holding a synthetic model-output archive, for benches/plan_scale_moto.rs.

Uploading a million objects through the HTTP API takes tens of minutes on a small machine, so
this script runs moto's server in-process and fills its S3 backend directly (the same
`put_object` the HTTP handler calls): about 45 s and 2 GB for 1,000,000 objects. Every object
is then served over the real S3 API.

moto's ListObjectsV2 scans and sorts every key of the bucket on every page (O(bucket) per
request, where S3 is O(page)); with a million keys one page costs ~0.2 s and a full listing
hours. With --sorted-listing the source bucket's pages are served from a sorted index of its
keys (same keys, order, pagination and response), so that listing times measure the planner
rather than the emulator's scan. Only the source bucket is indexed; it must not change after
start-up.

Usage: python moto_archive.py --variables V1,V2,... --steps S1,S2,... [--skip V:S ...]
           [--bucket edp-src] [--root V4r4] [--sorted-listing]
Prints `READY <port> <objects>` on stdout once serving; stops when stdin closes.
"""

import argparse
import bisect
import logging
import socket
import sys
import time

from moto.core import DEFAULT_ACCOUNT_ID
from moto.s3 import models
from moto.server import ThreadedMotoServer

DAY_FOLDER = "diags_daily"
TOKEN = "day_mean"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variables", required=True)
    parser.add_argument("--steps", required=True, help="first:count:stride")
    parser.add_argument("--skip", action="append", default=[], help="VAR:STEP not stored")
    parser.add_argument("--bucket", default="edp-src")
    parser.add_argument("--dest-bucket", default="edp-dst")
    parser.add_argument("--root", default="V4r4")
    parser.add_argument("--sorted-listing", action="store_true")
    args = parser.parse_args()

    variables = args.variables.split(",")
    first, count, stride = (int(x) for x in args.steps.split(":"))
    steps = [first + stride * n for n in range(count)]
    skip = {(s.split(":")[0], int(s.split(":")[1])) for s in args.skip}

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()

    backend = models.s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(args.bucket, "us-east-1")
    backend.create_bucket(args.dest_bucket, "us-east-1")
    start = time.time()
    objects = 0
    data = b"\0" * 64
    meta = b"nDims = [ 2 ];\n"
    for variable in variables:
        for step in steps:
            if (variable, step) in skip:
                continue
            stem = f"{args.root}/{DAY_FOLDER}/{variable}_{TOKEN}/{variable}_{TOKEN}.{step:010d}"
            backend.put_object(args.bucket, stem + ".data", data)
            backend.put_object(args.bucket, stem + ".meta", meta)
            objects += 2
    print(f"populated {objects} objects in {time.time() - start:.1f} s", file=sys.stderr)

    if args.sorted_listing:
        bucket = backend.get_bucket(args.bucket)
        names = sorted(bucket.keys.keys())
        original = models.S3Backend.list_objects_v2

        def sorted_listing(self, bucket, prefix, delimiter, continuation_token, start_after,
                           max_keys):
            if bucket.name != args.bucket or delimiter:
                return original(self, bucket, prefix, delimiter, continuation_token,
                                start_after, max_keys)
            prefix = prefix or ""
            after = continuation_token or start_after
            i = bisect.bisect_right(names, after) if after else bisect.bisect_left(names, prefix)
            page = []
            while i < len(names) and len(page) < max_keys and names[i].startswith(prefix):
                page.append(bucket.keys[names[i]])
                i += 1
            truncated = i < len(names) and names[i].startswith(prefix)
            return page, truncated, (page[-1].name if truncated and page else None)

        models.S3Backend.list_objects_v2 = sorted_listing

    print(f"READY {port} {objects}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
