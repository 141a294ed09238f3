#!/usr/bin/env python3
"""Checks a lat-lon granule against its weights file, independently of the Rust code.

Usage: check_weights.py WEIGHTS.nc GRANULE.nc INPUT.f32 VARIABLE

* WEIGHTS.nc: an edp weights file (SCRIP/ESMF layout: `row`, `col`, `S` 1-based, level 0;
  `mask_b` 1 wet / 0 land; `dst_grid_dims` = [nx, ny]).
* GRANULE.nc: a 2-D lat-lon granule holding VARIABLE(time, latitude, longitude).
* INPUT.f32: the level-0 input of VARIABLE as raw little-endian float32 in LLC tile order
  (s = t*N*N + j*N + i, the column order of the weights), written by the Rust test.

The weights are applied with scipy.sparse (float64), land (mask_b == 0) is set to NaN, and the
result is compared with the granule's values: the NaN (fill) positions must be equal and the
values equal within float32 rounding (allclose, rtol 1e-6, atol 1e-6 * max|input|).

Exit status: 0 when they agree, 1 when they do not, 2 when the Python environment lacks a
required package or the command line is wrong.
"""

import sys

try:
    import netCDF4
    import numpy as np
    import scipy.sparse
except ImportError as err:  # pragma: no cover - environment problem
    print(f"check_weights.py: missing Python package: {err}", file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) != 5:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    weights_path, granule_path, input_path, variable = argv[1:]

    with netCDF4.Dataset(weights_path) as w:
        n_a = len(w.dimensions["n_a"])
        n_b = len(w.dimensions["n_b"])
        rows = w.variables["row"][:].astype(np.int64) - 1
        cols = w.variables["col"][:].astype(np.int64) - 1
        weights = w.variables["S"][:].astype(np.float64)
        mask_b = w.variables["mask_b"][:]
        nx, ny = (int(d) for d in w.variables["dst_grid_dims"][:])
    matrix = scipy.sparse.csr_matrix((weights, (rows, cols)), shape=(n_b, n_a))

    field = np.fromfile(input_path, dtype="<f4")
    if field.size != n_a:
        print(f"FAIL {input_path}: {field.size} values, the weights have {n_a} sources")
        return 1
    expected = matrix @ field.astype(np.float64)
    expected[mask_b == 0] = np.nan

    with netCDF4.Dataset(granule_path) as g:
        var = g.variables[variable]
        if var.dimensions != ("time", "latitude", "longitude") or var.shape != (1, ny, nx):
            print(f"FAIL {variable}: dims {var.dimensions} shape {var.shape}, expected (1, {ny}, {nx})")
            return 1
        got = np.ma.filled(var[0].astype(np.float64), np.nan).reshape(-1)

    failures = []
    nan_got, nan_expected = np.isnan(got), np.isnan(expected)
    if not np.array_equal(nan_got, nan_expected):
        differ = np.flatnonzero(nan_got != nan_expected)
        failures.append(f"{differ.size} targets differ in land/fill, first {differ[:10].tolist()}")
    wet = ~nan_got & ~nan_expected
    atol = 1e-6 * float(np.max(np.abs(field)))
    close = np.isclose(got[wet], expected[wet].astype(np.float32), rtol=1e-6, atol=atol)
    if not close.all():
        bad = np.flatnonzero(wet)[~close]
        failures.append(f"{bad.size} wet targets differ, first {bad[:10].tolist()}")
    max_diff = float(np.max(np.abs(got[wet] - expected[wet]))) if wet.any() else 0.0
    print(f"{variable}: {int(wet.sum())} wet and {int(nan_got.sum())} land targets of "
          f"{nx}x{ny}; max |granule - scipy| = {max_diff:.3g}")
    for item in failures:
        print(f"FAIL {item}")
    if failures:
        return 1
    print("weights check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
