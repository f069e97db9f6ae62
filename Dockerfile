# The render-node image for deploy/: mandelfly, the FFmpeg and Vulkan runtime libraries, and
# Mesa's lavapipe as the fallback; on NVIDIA nodes the NVIDIA container runtime mounts the
# driver. Build from the repository root:
#   docker build -t registry.example.com/mandelfly:latest .
# The runtime install steps are deploy/install-runtime.sh, which the test suite checks.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh run
COPY . .
RUN cargo build --release --locked && install -m 755 target/release/mandelfly /usr/local/bin/

FROM debian:12-slim
COPY deploy/install-runtime.sh /usr/local/share/mandelfly/install-runtime.sh
RUN /usr/local/share/mandelfly/install-runtime.sh && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/mandelfly /usr/local/bin/mandelfly
# `graphics` makes the NVIDIA container runtime mount its Vulkan driver (`compute` alone gives
# only CUDA); without a visible GPU, wgpu falls back to lavapipe, and every render logs which.
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=graphics,compute,utility
WORKDIR /work
CMD ["mandelfly", "info"]
