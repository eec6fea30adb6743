# calcom-async: the verbs. `make test` works on a fresh clone (creates .venv, installs, tests).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SPEC   ?= ../shared/openapi/releases/calcom-v2-fea00aa8.openapi.json
# NO_VERIFY=1 skips the sha256 check of SPEC against openapi/pin.json (for a newer document)
GEN_FLAGS := $(if $(NO_VERIFY),--no-verify,)

# the contract run's mock server, installed with npm into the ignored .tools/ (pinned)
PRISM_VERSION ?= 5.16.0
PRISM_DIR     := .tools/prism
PRISM_STAMP   := $(PRISM_DIR)/.installed-$(PRISM_VERSION)

.PHONY: install test generate check-generated lint typecheck format clean demo contract bench \
	dist smoke docs docs-serve docs-check

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
	$(PY) -m ruff check calcom_async codegen tests examples bench scripts
	$(PY) -m ruff format --check calcom_async codegen tests examples bench scripts
	$(VENV)/bin/lint-imports
	$(VENV)/bin/deptry calcom_async

format: $(STAMP)
	$(PY) -m ruff format calcom_async codegen tests examples bench scripts
	$(PY) -m ruff check --fix calcom_async codegen tests examples bench scripts

typecheck: $(STAMP)
	$(PY) -m mypy
	$(PY) -m mypy --strict scripts

# the main job against the embedded FakeCalCom (DEMO_BOOKINGS=500 for a shorter run); with
# CALCOM_API_KEY set, the read-only part against the real API
demo: $(STAMP)
	$(PY) -m calcom_async.testing.demo

$(PRISM_STAMP):
	mkdir -p $(PRISM_DIR)
	npm install --no-audit --no-fund --silent --prefix $(PRISM_DIR) @stoplight/prism-cli@$(PRISM_VERSION)
	touch $(PRISM_STAMP)

# every operation through the generated client against `prism mock` of the document
contract: $(STAMP) $(PRISM_STAMP)
	CALCOM_CONTRACT=1 PRISM_BIN=$(PRISM_DIR)/node_modules/.bin/prism $(PY) -m pytest -q -s -p no:cacheprovider tests/contract

# benchmarks of issue 4 (bench/README.md): a table on stdout, bench/results/latest.json;
# BENCH_QUICK=1 for a shorter run. Not tests: nothing asserts a timing.
BENCH_STAMP := $(VENV)/.bench-stamp
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	SPEC='$(SPEC)' $(PY) -m bench.run

# instructions per booking to structure a page (callgrind: repeatable on a busy machine)
bench-instructions: $(BENCH_STAMP)
	$(PY) -m bench.instructions

# instructions per request (callgrind), this tree against an earlier commit:
# make bench-request-instructions REV=749da79 MODE=fan   (MODE: raw, typed, fan)
bench-request-instructions: $(BENCH_STAMP)
	@test -n "$(REV)" || { echo "make bench-request-instructions REV=<commit> [MODE=raw]"; exit 2; }
	$(PY) -m bench.request_instructions $(REV) --mode $(or $(MODE),raw)

# this tree against an earlier commit, alternated in one run: make bench-compare REV=7835a2e
bench-compare: $(BENCH_STAMP)
	@test -n "$(REV)" || { echo "make bench-compare REV=<commit>"; exit 2; }
	$(PY) -m bench.compare $(REV)

# issue 17: the wheel and the sdist (python -m build), checked: twine, check-wheel-contents (the
# wheel holds exactly the source package), and scripts/dist.py (py.typed, the generated code and
# the fake in; tests, codegen and caches out). `make smoke`: the wheel alone in fresh venvs.
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m twine check --strict dist/*
	$(VENV)/bin/check-wheel-contents --package calcom_async dist/*.whl
	$(PY) scripts/dist.py check dist

# the wheel with only its runtime dependencies, then with each extra, each in a new venv
smoke: dist
	$(PY) scripts/dist.py smoke dist

# the documentation site (mkdocs.yml) into site/; --strict: a broken link or reference fails
# (NO_MKDOCS_2_WARNING: mkdocs-material's banner about its successor, printed on every build)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir site

DOCS_ADDR ?= 127.0.0.1:8000
docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs serve --dev-addr $(DOCS_ADDR)

# the built site in headless Chromium: pages render, the search finds "sync"; screenshots in
# .artifacts/docs/
docs-check: docs
	$(PY) scripts/docs_browser.py site .artifacts/docs

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis build dist site .artifacts
