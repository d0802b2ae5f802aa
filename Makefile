# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The CPU build of torch that lies on these machines' disk; elsewhere override, e.g. `make TORCH=torch demo`.
TORCH ?= torch==2.13.0
STAMP := $(VENV)/.installed

# The CARE isotropic peer of benchmarks/quality.py --peer: its own environment, never a dependency of the
# product or its tests (csbdeep needs TensorFlow, which the product does not use).
CARE_VENV := .venv-care
CARE_STAMP := $(CARE_VENV)/.installed

.PHONY: install demo test lint benchmarks care-env clean

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

$(CARE_STAMP):
	test -x $(CARE_VENV)/bin/python || $(PYTHON) -m venv $(CARE_VENV)
	$(CARE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CARE_VENV)/bin/python -m pip install --quiet "csbdeep==0.8.2" "tensorflow-cpu==2.15.1" "numpy<2"
	touch $(CARE_STAMP)

care-env: $(CARE_STAMP)

clean:
	rm -rf $(VENV) $(CARE_VENV) demo_out .pytest_cache .ruff_cache
