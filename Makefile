# make demo: the whole chain against the local lab.  make test: the test suite.
# Both need only Python 3 (3.11 or newer) and make: they create .venv and install into it.
# make test-floor: the scripts on the oldest supported Python and packages (Ubuntu 22.04's).
# make install [PREFIX=/opt/fruit-store]: the scripts' runtime packages only (docs/install.md).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# A Python 3.10 for test-floor; when not given, a python3.10 that really runs (pyenv's
# shim answers "command not found" unless selected), else pyenv's newest 3.10.
PYTHON_FLOOR ?=
FLOOR_VENV := .venv-floor
FLOOR_STAMP := $(FLOOR_VENV)/.installed
# The chain's tests: the scripts and their helper modules. Not the lab's own tests
# (test_lab.py, test_sample_data.py): the lab needs Django, and runs in .venv ($LAB_PYTHON).
FLOOR_TESTS := tests/test_change_image.py tests/test_upload.py tests/test_run.py \
	tests/test_descriptions.py tests/test_report_email.py tests/test_reports.py \
	tests/test_emails.py tests/test_health_check.py tests/test_chain.py \
	tests/test_dependencies.py tests/test_version.py tests/test_cars.py tests/test_feedback.py \
	tests/test_lab3_api.py

PREFIX ?= $(CURDIR)
PIP_INSTALL := -m pip install --quiet --disable-pip-version-check

.PHONY: demo test test-floor install lint format bench clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) $(PIP_INSTALL) -r requirements-dev.txt
	touch $@

demo: $(STAMP)
	$(PY) -m lab demo

test: $(STAMP)
	$(PY) -m pytest

# pytest and the scripts run by .venv-floor's Python 3.10 with requirements-floor.txt;
# the lab (Django, the sample data generator) by .venv's, through LAB_PYTHON.
test-floor: $(STAMP)
	@python='$(PYTHON_FLOOR)'; \
	if [ -z "$$python" ]; then \
	    if python3.10 -c '' 2>/dev/null; then python=python3.10; else \
	        root=$$(pyenv root 2>/dev/null || echo "$${PYENV_ROOT:-$$HOME/.pyenv}"); \
	        python=$$(ls -d "$$root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -V | tail -n 1); \
	    fi; \
	fi; \
	if [ -z "$$python" ]; then \
	    echo "make test-floor: skipped, no Python 3.10 here (give one: make test-floor PYTHON_FLOOR=...)"; \
	    exit 0; \
	fi; \
	if [ ! -f $(FLOOR_STAMP) ] || [ requirements-floor.txt -nt $(FLOOR_STAMP) ] \
	        || [ "$$(cat $(FLOOR_STAMP))" != "$$python" ]; then \
	    echo "$(FLOOR_VENV): $$python with requirements-floor.txt"; \
	    rm -rf $(FLOOR_VENV) && "$$python" -m venv $(FLOOR_VENV) \
	    && $(FLOOR_VENV)/bin/python $(PIP_INSTALL) --only-binary=:all: -r requirements-floor.txt \
	    && echo "$$python" > $(FLOOR_STAMP) || exit 1; \
	fi; \
	LAB_PYTHON="$(CURDIR)/$(PY)" $(FLOOR_VENV)/bin/python -m pytest $(FLOOR_TESTS)

# The runtime packages only, in PREFIX/.venv; with another PREFIX than this folder,
# the scripts and their helper modules are copied there too.
install:
	@if [ "$(abspath $(PREFIX))" != "$(CURDIR)" ]; then \
	    echo "copying the scripts to $(PREFIX)"; \
	    mkdir -p "$(PREFIX)" && cp -p $(wildcard *.py) requirements.txt "$(PREFIX)/" || exit 1; \
	fi
	$(PYTHON) -m venv "$(PREFIX)/.venv"
	"$(PREFIX)/.venv/bin/python" $(PIP_INSTALL) -r requirements.txt
	@echo "installed: $(PREFIX)/.venv/bin/python $(PREFIX)/changeImage.py (and the others)"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Every benchmarks/bench_*.py, then their figures into benchmarks/README.md (about 4 minutes).
bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(FLOOR_VENV) .pytest_cache .ruff_cache demo-*
