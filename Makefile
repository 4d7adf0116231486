# make run   - the main job: verify-phase5.yml against the lab (exit non-zero when a check fails)
# make test  - every test: unit, integration (against the lab), molecule, mutant matrix, lint, sanity
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
LAB_FAULTS ?=
# LAB_PROFILE=box-like: one Drone runner, Gitea page cap 20, 10 s builds, 5 s bridge poll (lab/profiles.py)
LAB_PROFILE ?=
REPORT_DIR ?= out
EXTRA ?=

.PHONY: bootstrap run test unit ansible-test-units integration molecule mutants lint sanity docs bench lab-up lab-box-up lab-down clean

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	@scripts/run.sh

test: bootstrap
	@scripts/test.sh

unit: bootstrap
	$(PY) -m pytest -q tests/unit

# The same unit tests through ansible-test units (~4 min; not part of make test)
ansible-test-units: bootstrap
	@scripts/units.sh

integration: bootstrap
	$(PY) -m pytest -q tests/integration

lab-up: bootstrap
	$(PY) -m lab up --state .lab

# the lab as a box: its box side owned by an unprivileged user (BOX_USER, default ccci), over SSH (root) on BOX_PORT (default a free one)
lab-box-up: bootstrap
	$(PY) -m lab up --state .lab --box $(if $(BOX_USER),--box-user $(BOX_USER)) $(if $(BOX_PORT),--box-port $(BOX_PORT))

lab-down: bootstrap
	$(PY) -m lab down --state .lab

clean:
	-$(PY) -m lab down --state .lab 2>/dev/null
	rm -rf .lab out .collections tests/output .pytest_cache

# The mutant catalogue (lab/mutants): each mutant against the checks it targets (three workers: CRON's
# mutants one after another as one item on one of them, see tests/integration/test_mutants.py); the kill matrix
# goes to out/mutants.md and out/mutants.json. MUTANTS='-k bridge' runs a part of it.
MUTANTS ?=
mutants: bootstrap
	$(PY) -m pytest -q -rf -p no:cacheprovider -n 3 tests/integration/test_mutants.py $(MUTANTS)

bench: bootstrap
	$(PY) scripts/bench.py
