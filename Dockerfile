# syntax=docker/dockerfile:1
# One image definition for every service; the build argument SERVICE (the folder under services/)
# selects which. Build from the repository root:
#   docker build --build-arg SERVICE=registry -t fmc/registry .
#   (SERVICE=registry | inference-gateway | scoring | grievance | web)
# Two stages: "build" installs libs/common, libs/protos and the service into a virtualenv with the
# pinned versions of constraints.txt; "runtime" is a fresh slim image that receives only that
# virtualenv (no pip, no compiler, no sources) and runs as an unprivileged user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN test -n "${SERVICE}" || { echo "--build-arg SERVICE=<registry|inference-gateway|scoring|grievance|web>" >&2; exit 1; }
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:${PATH}
COPY constraints.txt ./
COPY libs/common libs/common
COPY libs/protos libs/protos
COPY services/${SERVICE} services/${SERVICE}
# The service's console script (its pyproject's first) is also installed as "fmc-service", so that
# the runtime stage has one entry point whichever service it holds.
RUN pip install "pip==26.3" \
 && pip install -c constraints.txt ./libs/common ./libs/protos ./services/${SERVICE} \
 && script="$(python -c 'import sys, tomllib; print(next(iter(tomllib.load(open(sys.argv[1], "rb"))["project"]["scripts"])))' services/${SERVICE}/pyproject.toml)" \
 && ln -s "/opt/venv/bin/${script}" /opt/venv/bin/fmc-service \
 && python -m compileall -q /opt/venv/lib \
 && pip uninstall -y pip setuptools

FROM ${PYTHON_IMAGE} AS runtime
ARG UID=10001
RUN groupadd --system --gid ${UID} fmc \
 && useradd --system --uid ${UID} --gid ${UID} --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin fmc
COPY --from=build /opt/venv /opt/venv
# Every service binds all interfaces (each reads only its own prefix); the ports are each service's
# settings defaults (docs/operations.md), published by the compose file and the manifests.
# One BLAS/OpenMP thread per process: the arena's ratings (numpy) run in a worker thread beside the
# event loop, and a container's CPU limit is a core or two; OpenBLAS's own pool would oversubscribe it.
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1 \
    FMC_REGISTRY_HTTP_HOST=0.0.0.0 \
    FMC_GATEWAY_HTTP_HOST=0.0.0.0 \
    FMC_SCORING_HTTP_HOST=0.0.0.0 \
    FMC_GRIEVANCE_HTTP_HOST=0.0.0.0 \
    FMC_WEB_HTTP_HOST=0.0.0.0
WORKDIR /tmp
# Numeric, so that Kubernetes can verify runAsNonRoot.
USER ${UID}:${UID}
STOPSIGNAL SIGTERM
ENTRYPOINT ["fmc-service"]
CMD ["serve"]
