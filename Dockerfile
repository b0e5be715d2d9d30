# The action's container. BASE_IMAGE may name a locally built base where no registry is reachable.
ARG BASE_IMAGE=python:3.12-slim-bookworm
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /action
COPY requirements.txt /action/requirements.txt
RUN python -m pip install --no-compile -r /action/requirements.txt
COPY entrypoint.py /action/entrypoint.py
COPY src /action/src
RUN python -m compileall -q /action/src

ENTRYPOINT ["python", "/action/entrypoint.py"]
