# Quick start: `make` sets everything up and builds output/; `make test` runs the suite.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: all setup build test fuzz mutate clean

all: build

ICC    := .cache/icc/FOGRA39.icc
FONTS  := .cache/fonts.stamp

AXE    := node_modules/axe-core/axe.min.js

setup: $(STAMP) $(ICC) $(FONTS) $(AXE)

# axe-core, pinned in package-lock.json, for the browser tests (tests/browser.py).
$(AXE): package.json package-lock.json | $(STAMP)
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(AXE)

# Static instances of the variable brand fonts in .cache/fonts/, cached per font version, and the
# private fontconfig configuration that lists only them (policyprint/fonts.py).
$(FONTS): policyprint/fonts.py | $(STAMP)
	$(PY) -c 'from policyprint.fonts import prepare; prepare()'
	touch $(FONTS)

# Rebuilt when the script changes (the script itself keeps an existing profile).
$(ICC): scripts/build-fogra39.sh | $(STAMP)
	rm -f $(ICC)
	bash scripts/build-fogra39.sh $(ICC)

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

build: setup
	$(PY) build.py build

test: setup
	$(PY) -m pytest

# Property-based tests at full strength: 10,000 random examples (tests/test_fuzz.py); takes a while.
fuzz: setup
	$(PY) -m pytest tests/test_fuzz.py --hypothesis-profile=fuzz --hypothesis-show-statistics -p no:cacheprovider

# Break each guard on purpose (scripts/mutate.py) and show that a named test catches it; prints
# a table and fails if any break goes uncaught. Slow (about 10 minutes); not part of `make test`.
mutate: setup
	$(PY) scripts/mutate.py

clean:
	rm -rf output .cache node_modules
