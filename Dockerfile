# The action's image: Debian's Python 3.11 and the hash-pinned dependencies, copied onto an empty image.
#
# BASE_IMAGE is the build stage's Debian bookworm. The default is the official image, pinned by digest;
# where no registry is reachable, `docker/build-local-base` makes the same root file system from Debian's
# packages with debootstrap, and `--build-arg BASE_IMAGE=build-status-base:bookworm-slim` uses it.
ARG BASE_IMAGE=debian:bookworm-slim@sha256:88200866dfff7ea7f5cbcb6ec7c8a701889efe6fe859fe64d6990e4b07ea4171

FROM ${BASE_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Debian stable's python3.11 only ever takes security fixes, and a pinned Debian version leaves the mirror
# with the next one (the build would break), so the base is pinned by digest and the packages are not.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3-pip \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt docker/assemble_rootfs.py /build/
RUN python3.11 -m pip install --quiet --no-cache-dir --no-deps --require-hashes --only-binary=:all: \
        --no-compile --target /rootfs/usr/local/lib/python3.11/dist-packages -r /build/requirements.txt \
    && rm -rf /rootfs/usr/local/lib/python3.11/dist-packages/bin \
    && python3.11 /build/assemble_rootfs.py /rootfs
# post.py is runs.post-entrypoint (report-job-end): executable, run by its shebang.
COPY entrypoint.py post.py /rootfs/action/
COPY src/build_status /rootfs/action/src/build_status
# Byte-code compiled once here (not at every start), recorded under the paths the image runs them from.
RUN python3.11 -m compileall -q -j 0 --invalidation-mode unchecked-hash -s /rootfs -p / \
        /rootfs/usr/lib/python3.11 /rootfs/usr/local/lib/python3.11 /rootfs/action

FROM scratch
COPY --from=build /rootfs /
ENV LANG=C.UTF-8 PATH=/usr/local/bin:/usr/bin
# -I: the workflow's PYTHON* variables and the workspace do not change how the action runs; -u: workflow
# commands reach the log as they are written. Runs as root, the default user, as GitHub requires.
ENTRYPOINT ["/usr/bin/python3", "-I", "-u", "/action/entrypoint.py"]
