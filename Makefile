# reachloop's front door. `make demo` and `make test` work on a fresh clone: each creates the
# environment in .venv/ from the lock file first, if it is missing or out of date.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed
# The demo's company: 300 employees over a year, the smallest in which every report section
# has content (at 0.1 the attribution charts had one bar and all departments suppressed).
SCALE ?= 0.3
SEED ?= 42

export REACHLOOP_HOME ?= $(CURDIR)/.reachloop

.PHONY: env demo demo-exports test bench lint lock clean browser docs bi-env airflow spark-env test-spark java lock-spark

env: $(STAMP)

# Installed with compiled bytecode: where PYTHONDONTWRITEBYTECODE is set (CI images often do),
# every process would otherwise re-compile Airflow, dbt and GX from source (GX: 4 s → 12+ s).
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

demo: $(STAMP)
	@bash scripts/demo.sh "$(SCALE)" "$(SEED)"

# The same pipeline fed only by vendor exports (HR roster, members' LinkedIn exports, advocacy
# platform, LinkedIn API, GA4, HubSpot) of a synthetic company, each in its own format.
EXPORTS_SCALE ?= 0.05
demo-exports: $(STAMP)
	@DEMO_HOME=$(CURDIR)/.reachloop/demo-exports bash scripts/demo_exports.sh "$(EXPORTS_SCALE)" "$(SEED)"

# A BI client's environment (DuckDB 1.x, SQLAlchemy 2.0, duckdb_engine), apart from the
# pipeline's: the suite reflects the publication through it as Superset does.
BI_VENV := .venv-bi
BI_STAMP := $(BI_VENV)/.installed
bi-env: $(BI_STAMP)

$(BI_STAMP): requirements-bi.lock $(STAMP)
	$(BIN)/uv venv --quiet --allow-existing --python $(BIN)/python $(BI_VENV)
	$(BIN)/uv pip install --quiet --python $(BI_VENV)/bin/python -r requirements-bi.lock
	touch $@

test: $(STAMP) $(BI_STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile --durations=15 -m "not spark"

# The Spark engine (reachloop build --engine spark): the pipeline's pins plus dbt-spark and a
# local pyspark (requirements-spark.lock), in an environment of its own so that the default one
# stays lean. Its tests build the same workload on both engines and compare every mart.
SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed
spark-env: $(SPARK_STAMP) java

$(SPARK_STAMP): requirements.lock requirements-spark.lock pyproject.toml $(STAMP)
	$(BIN)/uv venv --quiet --allow-existing --python $(BIN)/python $(SPARK_VENV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(SPARK_VENV)/bin/python \
	  -r requirements.lock -r requirements-spark.lock
	$(BIN)/uv pip install --quiet --python $(SPARK_VENV)/bin/python --no-deps -e .
	touch $@

test-spark: $(SPARK_STAMP) java
	$(SPARK_VENV)/bin/python -m pytest -m spark --durations=5 tests/test_spark_parity.py

# Spark runs on the JVM: Debian's Java 17 runtime, installed once if no java is on the PATH.
java:
	@command -v java >/dev/null || { \
	  echo "installing Debian's openjdk-17-jre-headless for the spark engine"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

# The report test opens the HTML report in Debian's headless Chromium.
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the report test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Stages at several scale factors against DuckDB's floor and a pandas peer (and the build on
# Spark, spark.build, in .venv-spark); writes
# bench/results/*.json and the tables in BENCHMARKS.md. `make bench BENCH_ARGS=--sf100` adds SF100.
BENCH_SCALES ?= 0.1,1,10
bench: $(STAMP) $(SPARK_STAMP) java
	$(BIN)/python -m bench.run --scales $(BENCH_SCALES) $(BENCH_ARGS)

# Airflow locally (SQLite metadata): DAGs unpaused and listed at once, sample deliveries for
# yesterday; the UI on http://localhost:8080 (standalone prints the admin password). Ctrl-C stops it.
airflow: $(STAMP)
	@bash scripts/airflow_local.sh

docs: $(STAMP)
	$(BIN)/reachloop docs

lint: $(STAMP)
	$(BIN)/ruff check .

# Re-resolve the pinned set after editing requirements.in.
lock: $(STAMP)
	$(BIN)/uv pip compile requirements.in --python-version 3.11 -o requirements.lock

# The Spark extras, resolved against the pipeline's pins (they must co-install).
lock-spark: $(STAMP)
	$(BIN)/uv pip compile requirements-spark.in -c requirements.lock --python-version 3.11 -o requirements-spark.lock

clean:
	rm -rf .reachloop .venv-bi .venv-spark dbt_project/target dbt_project/logs
