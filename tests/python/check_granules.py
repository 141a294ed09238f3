#!/usr/bin/env python3
"""Checks edp granules (native and lat-lon) with the tools PO.DAAC users have.

Usage: check_granules.py GRANULE.nc [GRANULE.nc ...]

For every granule:

1. netCDF4: the file is NETCDF4; data variables are float32 with _FillValue 9.969209968386869e36,
   zlib (deflate) with shuffle and explicit chunks; coordinates are int32/float32, contiguous,
   uncompressed and without _FillValue; valid_min/valid_max equal the NaN-ignoring range of
   the data; `time` has units "hours since ..." and calendar proleptic_gregorian.
2. xarray (decode_cf=True): the file decodes; `time` becomes datetime64 and lies within
   `time_bnds` (averages); fill values become NaN.
3. IOOS compliance-checker `--test cf:1.8 --test acdd:1.3 -f json`: any failed high-priority
   check is an error; failed medium-priority checks are printed.

   One high-priority ACDD check is waived, narrowly and visibly ("WAIVED" lines): ACDD 1.3
   "highly recommends" a `standard_name` on every data variable, but 52 of the 93 V4r4 native
   variables (e.g. SSHIBC, ETAN, ADVx_TH; on lat-lon grids e.g. SSHIBC, SSHNOIBC) have none in ECCO's variable metadata and no CF
   standard name exists for most of them; we do not invent one. The waiver applies only when
   `standard_name` is the sole missing attribute of a data variable that indeed has none.

Exit status: 0 when every granule passes, 1 when a check fails, 2 when the Python environment
lacks a required package or the command line is wrong.
"""

import json
import math
import shutil
import subprocess
import sys

FILL = 9.969209968386869e36
COORDINATE_NAMES = {
    "i", "i_g", "j", "j_g", "k", "k_u", "k_l", "k_p1", "tile", "time", "time_bnds",
    "XC", "YC", "XG", "YG", "XC_bnds", "YC_bnds", "Z", "Zp1", "Zu", "Zl", "Z_bnds",
    "latitude", "longitude", "latitude_bnds", "longitude_bnds",
}
INT_COORDINATES = {"i", "i_g", "j", "j_g", "k", "k_u", "k_l", "k_p1", "tile", "time", "time_bnds"}

try:
    import netCDF4
    import numpy as np
    import xarray as xr
except ImportError as err:  # pragma: no cover - environment problem
    print(f"check_granules.py: missing Python package: {err}", file=sys.stderr)
    sys.exit(2)


class Failures:
    """Collects failed checks of one granule."""

    def __init__(self, path):
        self.path = path
        self.items = []

    def check(self, ok, message):
        if not ok:
            self.items.append(message)
        return ok


def check_netcdf4(path, fails):
    with netCDF4.Dataset(path) as ds:
        fails.check(ds.file_format == "NETCDF4", f"file format is {ds.file_format}, expected NETCDF4")
        for name, var in ds.variables.items():
            filters = var.filters() or {}
            chunking = var.chunking()
            attrs = var.ncattrs()
            if name in COORDINATE_NAMES:
                want = np.int32 if name in INT_COORDINATES else np.float32
                fails.check(var.dtype == want, f"{name}: dtype {var.dtype}, expected {np.dtype(want)}")
                fails.check("_FillValue" not in attrs, f"{name}: coordinate has a _FillValue")
                fails.check(chunking == "contiguous", f"{name}: coordinate storage {chunking}, expected contiguous")
                fails.check(not filters.get("zlib"), f"{name}: coordinate is compressed")
                continue
            fails.check(var.dtype == np.float32, f"{name}: dtype {var.dtype}, expected float32")
            fill = getattr(var, "_FillValue", None)
            fails.check(fill is not None and np.float32(fill) == np.float32(FILL),
                        f"{name}: _FillValue {fill}, expected {FILL}")
            fails.check(bool(filters.get("zlib")), f"{name}: not deflated")
            fails.check(bool(filters.get("shuffle")), f"{name}: no shuffle filter")
            fails.check(filters.get("complevel") == 5, f"{name}: deflate level {filters.get('complevel')}, expected 5")
            fails.check(isinstance(chunking, list), f"{name}: storage {chunking}, expected chunked")
            var.set_auto_mask(False)
            raw = var[:]
            data = raw[raw != np.float32(FILL)]
            if data.size:
                fails.check(var.valid_min == data.min() and var.valid_max == data.max(),
                            f"{name}: valid range {var.valid_min}..{var.valid_max}, data {data.min()}..{data.max()}")
                fails.check(not np.isnan(data).any(), f"{name}: NaN stored instead of fill")
        time = ds.variables.get("time")
        if fails.check(time is not None, "no time variable"):
            fails.check(time.units.startswith("hours since "), f"time units {time.units}")
            fails.check(time.calendar == "proleptic_gregorian", f"time calendar {time.calendar}")


def check_xarray(path, fails):
    with xr.open_dataset(path, decode_cf=True) as ds:
        time = ds["time"]
        fails.check(np.issubdtype(time.dtype, np.datetime64), f"time decodes to {time.dtype}")
        if "time_bnds" in ds:
            lo, hi = ds["time_bnds"].values[0]
            t = time.values[0]
            fails.check(lo <= t <= hi, f"time {t} outside time_bnds {lo}..{hi}")
        for name, var in ds.data_vars.items():
            if name in COORDINATE_NAMES:
                continue
            values = var.values
            fails.check(not (values == np.float32(FILL)).any(), f"{name}: fill not decoded to NaN")
            fails.check(np.isfinite(values).any(), f"{name}: no valid value")


ACDD_VARIABLE_HEADER = 'variable "{}" missing the following attributes:'


def waived(suite, item, data_variables):
    """The ACDD standard_name check of a data variable without a standard_name (see above)."""
    if suite != "acdd:1.3" or item.get("msgs") != ["standard_name"]:
        return False
    return any(item["name"] == ACDD_VARIABLE_HEADER.format(name) and not has_std
               for name, has_std in data_variables.items())


def data_variables_of(path):
    """Data variable name -> whether it has a standard_name."""
    with netCDF4.Dataset(path) as ds:
        return {name: "standard_name" in var.ncattrs()
                for name, var in ds.variables.items() if name not in COORDINATE_NAMES}


def run_compliance_checker(path, fails):
    exe = shutil.which("compliance-checker")
    if exe is None:
        # Beside this interpreter (a virtual environment that is not activated).
        candidate = __import__("pathlib").Path(sys.executable).with_name("compliance-checker")
        exe = str(candidate) if candidate.exists() else None
    if exe is None:
        print("check_granules.py: compliance-checker is not installed", file=sys.stderr)
        sys.exit(2)
    proc = subprocess.run(
        [exe, "--test", "cf:1.8", "--test", "acdd:1.3", "-f", "json", "-o", "-", path],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        fails.check(False, f"compliance-checker gave no JSON (exit {proc.returncode}): {proc.stderr.strip()[:2000]}")
        return
    # Exceptions inside checks are reported on stderr (besides an informational "Running
    # Compliance Checker on ..." line); they are failures of the run and must not go unnoticed.
    problems = [line for line in proc.stderr.splitlines()
                if line.strip() and not line.startswith("Running Compliance Checker on the datasets")]
    if problems:
        fails.check(False, "compliance-checker errors: " + " | ".join(problems)[:2000])
    data_variables = data_variables_of(path)
    for suite in ("cf:1.8", "acdd:1.3"):
        result = report.get(suite)
        if not fails.check(result is not None, f"compliance-checker ran no {suite} suite"):
            continue
        for priority in ("high_priorities", "medium_priorities"):
            for item in result.get(priority, []):
                scored, possible = item["value"]
                if scored >= possible:
                    continue
                msgs = "; ".join(m for m in item.get("msgs", []) if m) or "(no message)"
                line = f"{suite} {item['name']}: {scored}/{possible}: {msgs}"
                if priority == "high_priorities" and waived(suite, item, data_variables):
                    print(f"  WAIVED HIGH {line} (no standard_name in the ECCO metadata)")
                elif priority == "high_priorities":
                    fails.check(False, "HIGH " + line)
                else:
                    print(f"  MEDIUM {line}")
        print(f"  {suite}: {result['scored_points']}/{result['possible_points']} points, "
              f"high {result['high_count']}, medium {result['medium_count']}, low {result['low_count']} failed")


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    failed = 0
    for path in argv[1:]:
        print(f"{path}:")
        fails = Failures(path)
        try:
            check_netcdf4(path, fails)
            check_xarray(path, fails)
        except Exception as err:  # any exception while reading is a failure of the granule
            fails.check(False, f"reading failed: {type(err).__name__}: {err}")
        run_compliance_checker(path, fails)
        for item in fails.items:
            print(f"  FAIL {item}")
        if fails.items:
            failed += 1
        else:
            print("  ok")
    print(f"{len(argv) - 1 - failed} of {len(argv) - 1} granules passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
