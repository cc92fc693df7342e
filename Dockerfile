# The opsmith App image: a release build in a Rust stage, then a Debian slim runtime with git, CA
# certificates and Trivy, running as an unprivileged user. Build: docker build -t opsmith .
FROM rust:1.95-bookworm AS build
WORKDIR /src
# The context is bind-mounted rather than copied, and the cargo registry and target directory live in
# cache mounts, so a source change recompiles only opsmith's own crate.
RUN --mount=type=bind,target=/src \
    --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git/db \
    --mount=type=cache,target=/cargo-target,sharing=locked \
    CARGO_TARGET_DIR=/cargo-target cargo build --release --locked --bin opsmith \
    && install -D -m 0755 /cargo-target/release/opsmith /out/opsmith

# Trivy from its official image, pinned to the release the test suite runs.
FROM aquasec/trivy:0.76.0 AS trivy

FROM debian:bookworm-slim
# Debian's security updates land under the same names, so the packages are not pinned to versions.
# libssl3 is the TLS library libgit2 links against.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install --no-install-recommends -y ca-certificates git libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/opsmith --shell /usr/sbin/nologin opsmith \
    && install -d -o opsmith -g opsmith -m 0750 /var/lib/opsmith /var/lib/opsmith/work /var/lib/opsmith/trivy-cache
COPY --from=trivy /usr/local/bin/trivy /usr/local/bin/trivy
COPY --from=build /out/opsmith /usr/local/bin/opsmith
# The embedded SQLite store by default; compose.yaml points OPSMITH_DATABASE_URL at PostgreSQL.
ENV OPSMITH_LISTEN=0.0.0.0:3000 \
    OPSMITH_WORK_DIR=/var/lib/opsmith/work \
    OPSMITH_DATABASE_URL=sqlite:///var/lib/opsmith/opsmith.db \
    TRIVY_CACHE_DIR=/var/lib/opsmith/trivy-cache
WORKDIR /var/lib/opsmith
VOLUME ["/var/lib/opsmith"]
USER 10001:10001
EXPOSE 3000
# No curl in the image: bash's /dev/tcp asks GET /healthz on the port OPSMITH_LISTEN names.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${OPSMITH_LISTEN##*:} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/opsmith"]
CMD ["serve"]
