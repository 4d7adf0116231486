# make run   - the main job: verify-phase5.yml against the lab (exit non-zero when a check fails)
# make test  - every test: unit, integration (against the lab), molecule, fault matrix, lint, sanity
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
LAB_FAULTS ?=
REPORT_DIR ?= out
EXTRA ?=

.PHONY: bootstrap run test unit integration molecule faults lint sanity docs bench lab-up lab-down clean

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	@scripts/run.sh

test: bootstrap
	@scripts/test.sh

unit: bootstrap
	$(PY) -m pytest -q tests/unit

integration: bootstrap
	$(PY) -m pytest -q tests/integration

lab-up: bootstrap
	$(PY) -m lab up --state .lab

lab-down: bootstrap
	$(PY) -m lab down --state .lab

clean:
	-$(PY) -m lab down --state .lab 2>/dev/null
	rm -rf .lab out .collections tests/output .pytest_cache

faults: bootstrap
	$(PY) -m pytest -q -rf -p no:cacheprovider -n 2 tests/integration -m "not cron" -k fault

bench: bootstrap
	$(PY) scripts/bench.py
