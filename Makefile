# Two commands matter on a fresh machine: `make demo` and `make test`.
# Both create .venv and install the pinned dependencies themselves.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP_VERSION := 26.3
PACKAGES := -e libs/common -e libs/protos -e services/registry -e services/inference-gateway \
            -e services/scoring -e services/grievance -e services/web -e tools/devrunner
PYPROJECTS := $(wildcard libs/*/pyproject.toml services/*/pyproject.toml tools/*/pyproject.toml)

.PHONY: install test lint fmt demo dev protos contracts bench lock clean

install: $(VENV)/.installed

# llama-cpp-python (the tests' OpenAI-compatible server) is a source distribution: compiled on every core.
$(VENV)/.installed: constraints.txt requirements-dev.txt $(PYPROJECTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check "pip==$(PIP_VERSION)"
	CMAKE_BUILD_PARALLEL_LEVEL=$${CMAKE_BUILD_PARALLEL_LEVEL:-$$(nproc)} \
	  $(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -r requirements-dev.txt $(PACKAGES)
	touch $@

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/fmc demo

# make dev DEV_ARGS="--seed": options of `fmc dev up` (docs/sandbox.md)
dev: install
	$(VENV)/bin/fmc dev up $(DEV_ARGS)

protos: install
	$(PY) -m fmc_protos.build

contracts: install
	$(PY) -m fmc_common.contracts export

bench: install
	$(PY) bench/outbox_throughput.py

lock: install
	( echo "# Pinned versions of every third-party package (pip freeze of a working venv). Regenerate: make lock"; \
	  $(PY) -m pip freeze --exclude-editable ) > constraints.txt

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
