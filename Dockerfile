# The sidecar image, ghcr.io/berth-dev/berth:VERSION, that `berth render` puts beside a service
# whose config hot-reloads (`args: [config-sync, ...]`). It holds the slim build of `berth`: only
# the `config-sync` command, built with the `sidecar` profile (size-optimised, fat LTO) because it
# runs in every such pod. The full CLI is `cargo install --path crates/cli`.
#
#   docker build -t ghcr.io/berth-dev/berth:0.1.0 .
FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --locked --profile sidecar -p berth-cli --no-default-features

# glibc and libgcc only; runs as a non-root user with a read-only root filesystem.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/sidecar/berth /usr/local/bin/berth
USER 65532:65532
EXPOSE 9480
ENTRYPOINT ["/usr/local/bin/berth"]
