# The single-stage alternative measured against the chosen image (README, "The image and releases"):
#   docker build -f docker/candidates/slim.Dockerfile --build-arg BASE_IMAGE=... -t candidate:slim .
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS build
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3-pip
COPY requirements.txt /tmp/
RUN python3.11 -m pip install --no-cache-dir --no-deps --require-hashes --target /deps -r /tmp/requirements.txt
FROM ${BASE_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 && rm -rf /var/lib/apt/lists/* /usr/local/share/ca-certificates/*
COPY --from=build /deps /usr/local/lib/python3.11/dist-packages
COPY entrypoint.py /action/
COPY src /action/src
ENTRYPOINT ["python3.11", "/action/entrypoint.py"]
