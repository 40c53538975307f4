# The two set-up commands: `make demo` and `make test`. Everything else is for maintainers.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check -c requirements/constraints.txt
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck bench messages system-packages runtime-packages clean

$(PY):
	python3 -m venv $(VENV)

$(APP_STAMP): pyproject.toml requirements/constraints.txt | $(PY)
	$(PIP) -e .
	touch $@

$(TEST_STAMP): $(APP_STAMP)
	$(PIP) -e '.[test]'
	touch $@

system-packages:
	scripts/ensure-system-packages.sh

runtime-packages:
	scripts/ensure-system-packages.sh runtime

## demo: install, initialise the SQLite database, load demo data, serve on 127.0.0.1:8000
demo: $(APP_STAMP) runtime-packages
	$(VENV)/bin/todoke demo

## test: install what tests need (Python and Debian packages), lint, type-check, run the suite
## on TEST_WORKERS processes (pytest-xdist; each has its own databases and servers)
TEST_WORKERS ?= 2
test: $(TEST_STAMP) system-packages lint
	$(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy src

bench: $(TEST_STAMP)
	$(PY) -m bench $(BENCH)

## messages: re-extract translatable strings and merge them into the ja/en catalogues
messages: $(TEST_STAMP)
	mkdir -p build
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _ --no-location --omit-header --sort-output -o build/messages.pot .
	$(VENV)/bin/pybabel update -i build/messages.pot -d src/todoke/locale -D messages --no-wrap --no-fuzzy-matching

clean:
	rm -rf $(VENV) build tests/artifacts .pytest_cache .mypy_cache .ruff_cache
