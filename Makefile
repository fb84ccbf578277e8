# reachloop's front door. `make demo` and `make test` work on a fresh clone: each creates the
# environment in .venv/ from the lock file first, if it is missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed
SCALE ?= 0.05
SEED ?= 42
DEMO_DATA := .reachloop/demo-data

export REACHLOOP_HOME ?= $(CURDIR)/.reachloop

.PHONY: env demo test lint lock clean

env: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

demo: $(STAMP)
	@bash scripts/demo.sh "$(SCALE)" "$(SEED)" "$(DEMO_DATA)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

# Re-resolve the pinned set after editing requirements.in.
lock: $(STAMP)
	$(BIN)/uv pip compile requirements.in --python-version 3.11 -o requirements.lock

clean:
	rm -rf .reachloop dbt_project/target dbt_project/logs
