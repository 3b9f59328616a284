# syntax=docker/dockerfile:1
# InsightOps in two stages: build with the pinned tools of ./run and ./test (scripts/common.sh,
# everything from crates.io and npm, nothing downloaded at run time), then a slim runtime image
# holding only the binary and the built site, running as a non-root user.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
ENV CARGO_TARGET_DIR=/src/target
# Tools first (cargo-leptos, the wasm target, wasm-bindgen matching Cargo.lock, wasm-opt): a
# layer that changes only with those pins.
COPY scripts/common.sh scripts/common.sh
COPY Cargo.toml Cargo.lock ./
RUN bash -c 'source scripts/common.sh && ensure_rust_tools && ensure_wasm_opt'
COPY . .
RUN bash -c 'source scripts/common.sh && ensure_echarts && ensure_wasm_opt && cargo leptos build --release' \
 && mkdir -p /out \
 && cp target/release/insightops /out/insightops \
 && cp -r target/site /out/site

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 insightops \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin insightops
WORKDIR /app
COPY --from=build /out/insightops /app/insightops
COPY --from=build /out/site /app/site
COPY Leptos.toml /app/config/Leptos.toml
ENV INSIGHTOPS_CONFIG=/app/config/Leptos.toml \
    LEPTOS_SITE_ROOT=/app/site \
    INSIGHTS_ENV=prod \
    INSIGHTOPS_ADDR=0.0.0.0:3000
USER 10001:10001
EXPOSE 3000 9464
# SIGTERM drains (readiness 503) and then finishes in-flight requests; see "Running in production".
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/api/health/live || exit 1
ENTRYPOINT ["/app/insightops"]
CMD ["serve", "--no-migrate"]
