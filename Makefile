# Data Science in Practice: the course's commands. `make help` lists them.
# Everything runs in .venv, which `make` (re)builds whenever requirements.txt or pyproject.toml change.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAB_PORT ?= 8888

# Tools of the venv come first; kernels started by Jupyter inherit this.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Jupyter looks up the kernel in .venv before any kernel in the user's home.
export JUPYTER_PREFER_ENV_PATH := 1

.PHONY: help install lab test doctor bench outputs exercises slides reset checkpoint clean

help:
	@echo "make lab      set up .venv if needed, then start JupyterLab on http://localhost:$(LAB_PORT)"
	@echo "make test     set up .venv if needed, then run the whole test suite (what CI runs)"
	@echo "make doctor   check this machine: versions, data, tools, CPU, memory, disk, ports, TF Serving"
	@echo "make bench    time and peak memory of every notebook; latency of the model server (REST, gRPC) vs in-process"
	@echo "make outputs  re-run the lesson notebooks in place, so committed outputs match the code"
	@echo "make exercises  regenerate exercises/ from solutions/ (a changed exercise is backed up first)"
	@echo "make slides   build the slide decks into build/slides/*.html (self-contained, work offline)"
	@echo "make reset    (stop JupyterLab first) back up changed notebooks to backups/<date>/, restore the originals, remove workspace/ and lesson models"
	@echo "make checkpoint MODULE=05  get the state a module starts from (data, workspace, exported models)"
	@echo "make install  only set up .venv;   make clean  remove .venv and build/"

install: $(STAMP)

# Debian's python3 lacks ensurepip unless python3-venv is installed: then the venv is made without
# pip and the system pip installs pip into it (`pip --python`, pip >= 22.3).
$(STAMP): requirements.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install it (Debian/Ubuntu: sudo apt install python3 python3-pip)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "$(PYTHON) is not Python 3.11: run make PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV) 2>/dev/null || { rm -rf $(VENV) && \
		$(PYTHON) -m venv --without-pip $(VENV) && $(PYTHON) -m pip --python $(VPY) install --quiet pip; }
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(VPY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (workshop)" --env TF_CPP_MIN_LOG_LEVEL 3 >/dev/null
	@touch $(STAMP)
	@echo "Set-up done: $(VENV) matches requirements.txt."

lab: $(STAMP)
	@echo "Starting JupyterLab. Open the http://localhost:$(LAB_PORT)/lab?token=... address it prints below; Ctrl+C stops it."
	$(VENV)/bin/jupyter lab --no-browser --ip=localhost --port=$(LAB_PORT) --ServerApp.port_retries=0 \
		--ServerApp.root_dir="$(CURDIR)" $(if $(filter 0,$(shell id -u)),--allow-root,)

test: $(STAMP)
	$(VPY) -m pytest tests
	WORKSHOP_WORKSPACE=$(CURDIR)/build/workspace WORKSHOP_MODELS=$(CURDIR)/build/models \
	  $(VPY) -m pytest --nbval-lax --nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider notebooks

doctor: $(STAMP)
	@$(VPY) -m workshop_lib doctor

bench: $(STAMP)
	$(VPY) tools/bench_notebooks.py
	$(VPY) tools/bench_serving.py

outputs: $(STAMP)
	$(VPY) tools/run_lessons.py

exercises: $(STAMP)
	$(VPY) -m workshop_lib.exercises

slides: $(STAMP)
	$(VPY) tools/build_slides.py

reset: $(STAMP)
	$(VPY) -m workshop_lib reset

checkpoint: $(STAMP)
	@test -n "$(MODULE)" || { echo "Which module? For example: make checkpoint MODULE=05"; exit 2; }
	$(VPY) -m workshop_lib checkpoint $(MODULE)

clean:
	rm -rf $(VENV) build
