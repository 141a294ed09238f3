# syntax=docker/dockerfile:1
#
# Worker image of edp: the `edp-batch-worker` binary that AWS Batch runs once per shard
# (docs/architecture.md). Build and push (docs/operations.md):
#
#   docker build -t <ecr_repository_url>:<image_tag> .
#   docker push <ecr_repository_url>:<image_tag>
#
# Stages:
#   skeleton  the workspace reduced to manifests, Cargo.lock and stub sources: its content only
#             changes when dependencies or the crate layout change
#   builder   compiles the dependencies from the skeleton (cached layer), then the real sources
#   runtime   debian:bookworm-slim with the NetCDF runtime library, CA certificates and the
#             binary, running as an unprivileged user

ARG RUST_IMAGE=rust:1-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS skeleton
WORKDIR /src
COPY . .
# Keep Cargo.toml/Cargo.lock and every .rs path, but replace each Rust source with a stub that
# compiles as a library, a binary, a build script, a test or a bench target alike.
RUN echo 'fn main() {}' > /tmp/stub.rs \
 && find . -type f ! -name Cargo.toml ! -name Cargo.lock ! -name '*.rs' ! -path './.cargo/*' -delete \
 && find . -type f -name '*.rs' -exec sh -c 'for f; do cp /tmp/stub.rs "$f"; done' sh {} + \
 && find . -type d -empty -delete

# ---------------------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS builder
# libnetcdf-dev: netcdf-sys links the system NetCDF-C (and HDF5) found through pkg-config.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libnetcdf-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build

# Dependency layer: rebuilt only when the skeleton changes.
COPY --from=skeleton /src ./
RUN cargo build --release --locked -p edp-runner --lib

# The real sources. Their files may be older than the stub build, so touch them: cargo
# compares modification times and must not mistake the stubs' artefacts for up to date.
COPY . .
RUN find . -path ./target -prune -o -name '*.rs' -exec touch {} +

# The one build command of the worker (tests compare it with the workspace).
RUN cargo build --release --locked -p edp-batch-worker --bin edp-batch-worker

# ---------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
# libnetcdf19 is the NetCDF-C 4.9 runtime of Debian bookworm (pulls in libhdf5 and friends).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libnetcdf19 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /home/edp --create-home edp

COPY --from=builder /build/target/release/edp-batch-worker /usr/local/bin/edp-batch-worker

USER 10001:10001
WORKDIR /home/edp

ENTRYPOINT ["/usr/local/bin/edp-batch-worker"]
