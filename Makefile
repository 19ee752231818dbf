# edgekit: two commands on a fresh Debian machine.
#   make demo  — record → train → quantize → compile → build → flash → HIL on the emulated `coral` + `sim` rig
#   make test  — the whole test suite (CI runs this through .ci/run)
#   make fuzz  — build the libFuzzer harnesses of firmware/fuzz and run each parser FUZZ_SECONDS (60)
# Both bootstrap first (Debian packages + .venv), idempotently.

VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: bootstrap demo test test-fast fuzz clean

FUZZ_SECONDS ?= 60

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/bin/edgekit demo

test: bootstrap
	$(PY) -m pytest -n 2 --durations=25 $(PYTEST_ARGS)

test-fast: bootstrap
	$(PY) -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

fuzz: bootstrap
	scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf build .edgekit .pytest_cache
