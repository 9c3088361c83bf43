# Data Science in Practice: the course's commands. `make help` lists them.
# Everything runs in .venv, which `make` (re)builds from requirements.lock whenever the lock,
# pyproject.toml or the set-up script change (tools/setup.sh: finds Python 3.11 to 3.13, uses uv when present).

# Empty: tools/setup.sh picks the newest supported Python on PATH. `make lab PYTHON=/path/to/python3.12` chooses.
PYTHON ?=
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAB_PORT ?= 8888

# Tools of the venv come first; kernels started by Jupyter inherit this.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Jupyter looks up the kernel in .venv before any kernel in the user's home.
export JUPYTER_PREFER_ENV_PATH := 1
# The course's JupyterLab settings (jupyter-config/): no internet look-ups, open on notebooks/.
export JUPYTER_CONFIG_PATH := $(CURDIR)/jupyter-config

.PHONY: help install lock lab test doctor bench outputs exercises slides reset checkpoint fresh-systems upgrade-probe clean

help:
	@echo "make lab      set up .venv if needed, then start JupyterLab on http://localhost:$(LAB_PORT)"
	@echo "make test     set up .venv if needed, then run the whole test suite (what CI runs)"
	@echo "make doctor   check this machine: versions, data, tools, CPU, memory, disk, ports, TF Serving"
	@echo "make bench    set-up time with pip and uv (cold, cached, no-op); time and peak memory of every notebook;"
	@echo "              latency of the model server (REST, gRPC) vs in-process; its throughput under load and"
	@echo "              the replicas for 2,000 requests/s (lesson 05's capacity model; the wine model when exported)"
	@echo "make outputs  re-run the lesson notebooks in place, so committed outputs match the code"
	@echo "make exercises  regenerate exercises/ from solutions/ (a changed exercise is backed up first)"
	@echo "make slides   build the slide decks into build/slides/*.html (self-contained, work offline)"
	@echo "make reset    (stop JupyterLab first) back up changed notebooks to backups/<date>/, restore the originals, remove workspace/ and lesson models"
	@echo "make checkpoint MODULE=05  get the state a module starts from (data, workspace, exported models)"
	@echo "make fresh-systems [SUITE=ci]  (root) follow the README on fresh Debian 12 and 13 as an ordinary user"
	@echo "make lock     regenerate requirements.lock from requirements.txt (after changing a pin)"
	@echo "make upgrade-probe [PROBE_ARGS=\"--python 3.13\"]  the newest release of every direct dependency in a scratch"
	@echo "              venv (build/upgrade-probe/): unit tests and notebooks, a table of what breaks; changes no pin"
	@echo "make install  only set up .venv;   make clean  remove .venv and build/"

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml tools/setup.sh
	@PYTHON="$(PYTHON)" VENV="$(VENV)" sh tools/setup.sh
	@touch $(STAMP)

# The lock: every package that lands in .venv, with hashes, for every platform and Python 3.11+, made
# by the uv that requirements.txt pins. Run it after changing requirements.txt, then `make test`.
# Then a dry run per supported platform and Python proves each has a package file for every pin
# (TensorFlow 2.20 has none for Intel Macs; onnxruntime needs macOS 14 on Apple Silicon).
LOCK_PLATFORMS := x86_64-manylinux_2_28 aarch64-manylinux_2_28 aarch64-apple-darwin
LOCK_PYTHONS := 3.11 3.12 3.13
lock: $(STAMP)
	$(VENV)/bin/uv pip compile --universal --generate-hashes --python-version 3.11 \
	  --custom-compile-command "make lock" --quiet requirements.txt -o requirements.lock
	@for platform in $(LOCK_PLATFORMS); do for python in $(LOCK_PYTHONS); do \
	  MACOSX_DEPLOYMENT_TARGET=14.0 $(VENV)/bin/uv pip install --dry-run --quiet --target build/lock-check \
	    --python-platform $$platform --python-version $$python --require-hashes --no-deps \
	    --only-binary :all: --no-binary antlr4-python3-runtime -r requirements.lock \
	  || { echo "requirements.lock lacks packages for $$platform, Python $$python (see above)"; exit 1; }; \
	done; done
	@echo "requirements.lock: every pin has a package for $(LOCK_PLATFORMS) x Python $(LOCK_PYTHONS)."

lab: $(STAMP)
	@echo "Starting JupyterLab. Open the http://localhost:$(LAB_PORT)/lab/tree/notebooks?token=... address it prints below; Ctrl+C stops it."
	$(VENV)/bin/jupyter lab --no-browser --ip=localhost --port=$(LAB_PORT) --ServerApp.port_retries=0 \
		--ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root,)

# ruff (lint and format, configured in pyproject.toml), then the tests in a random order (pytest-randomly
# prints its seed: replay with `make test PYTEST_ARGS="-p randomly --randomly-seed=N"`) on TEST_WORKERS
# parallel workers (pytest-xdist; tests/conftest.py groups what must share one). The lesson tests run
# nbval over the committed lesson notebooks, one kernel per notebook, its cells in order.
TEST_WORKERS ?= 2
PYTEST_ARGS ?=
test: $(STAMP)
	@start=$$(date +%s); \
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check --quiet . && \
	$(VPY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=30 $(PYTEST_ARGS) tests; \
	status=$$?; echo "make test took $$(( $$(date +%s) - start )) s"; exit $$status

doctor: $(STAMP)
	@$(VPY) -m course doctor

bench: $(STAMP)
	$(VPY) tools/bench_setup.py
	$(VPY) tools/bench_notebooks.py
	$(VPY) tools/bench_serving.py $(if $(wildcard models/wine/1/saved_model.pb),--model_base_path models/wine --model_name wine)

outputs: $(STAMP)
	$(VPY) tools/run_lessons.py

exercises: $(STAMP)
	$(VPY) -m course.exercises

slides: $(STAMP)
	$(VPY) tools/build_slides.py

reset: $(STAMP)
	$(VPY) -m course reset

checkpoint: $(STAMP)
	@test -n "$(MODULE)" || { echo "Which module? For example: make checkpoint MODULE=05"; exit 2; }
	$(VPY) -m course checkpoint $(MODULE)

# Maintainers, as root with debootstrap: follow the README on fresh Debian 12 and 13 as an ordinary user.
SUITE ?= all
fresh-systems: $(STAMP)
	$(VPY) tools/fresh_systems.py --tests $(SUITE)

# Maintainers: would the newest releases still work? tools/upgrade_probe.py installs them in build/upgrade-probe/venv
# (never .venv; requirements.txt and the lock stay as they are), runs ruff, the unit tests and every notebook there,
# and prints a table: package, pin, newest, what broke first. Needs PyPI; about 30-40 minutes on 2 cores.
PROBE_ARGS ?=
upgrade-probe: $(STAMP)
	$(VPY) tools/upgrade_probe.py $(PROBE_ARGS)

clean:
	rm -rf $(VENV) build
