# calcom-async: the verbs. `make test` works on a fresh clone (creates .venv, installs, tests).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SPEC   ?= ../shared/openapi/calcom-v2.openapi.json
# NO_VERIFY=1 skips the sha256 check of SPEC against openapi/pin.json (for a newer document)
GEN_FLAGS := $(if $(NO_VERIFY),--no-verify,)

.PHONY: install test generate check-generated lint typecheck format clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

generate: $(STAMP)
	$(PY) -m codegen --spec '$(SPEC)' $(GEN_FLAGS)

check-generated: $(STAMP)
	$(PY) -m codegen --spec '$(SPEC)' $(GEN_FLAGS) --check

lint: $(STAMP)
	$(PY) -m ruff check calcom_async codegen tests
	$(PY) -m ruff format --check calcom_async codegen tests

format: $(STAMP)
	$(PY) -m ruff format calcom_async codegen tests
	$(PY) -m ruff check --fix calcom_async codegen tests

typecheck: $(STAMP)
	$(PY) -m mypy

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build dist
