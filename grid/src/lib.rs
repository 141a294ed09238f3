//! The LLC native grid: loading from MDS grid directories and from ECCO grid-geometry NetCDF,
//! derived quantities (hFacC/W/S, maskC/W/S, cell-corner bounds), tile connectivity, and a
//! synthetic "Mercator-LLC(N)" grid generator for tests and demos.
