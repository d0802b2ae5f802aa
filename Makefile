# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU build of torch that lies on these machines' disk; elsewhere override, e.g. `make TORCH=torch demo`.
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install demo test lint benchmarks clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[testing]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/self-vision demo --out demo_out

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	# napari/Qt tests need a display: a virtual X server (xvfb-run, installed by .ci/run) when there is one
	if command -v xvfb-run >/dev/null; then xvfb-run -a $(PY) -m pytest; else $(PY) -m pytest; fi

benchmarks: $(STAMP)
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/speed.py

clean:
	rm -rf $(VENV) demo_out .pytest_cache .ruff_cache
