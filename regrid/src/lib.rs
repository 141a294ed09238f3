//! Lat-lon regridding exactly as ECCO V4r4 did it (bin average within r_p = sqrt(A/pi) with a
//! nearest-wet fallback and a per-level land mask), stored as SCRIP/ESMF sparse weights, and
//! the interpolation of vector components to cell centres with rotation to east/north.
