# certops.cloudflare development tasks. `make test` is the gate CI runs; `make demo` the tour.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# ansible-test and antsibull-docs need the collection under a path ending in
# ansible_collections/certops/cloudflare: a copy for them, a symlink for everything else.
COLLECTIONS := $(CURDIR)/.build/collections
LINK := $(COLLECTIONS)/ansible_collections/certops/cloudflare
COPY_ROOT := $(CURDIR)/.build/copy
COPY := $(COPY_ROOT)/ansible_collections/certops/cloudflare
PYTEST := $(PY) -m pytest -p no:cacheprovider
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: test compat units integration contract sanity lint docs-lint build demo emulator bench reliability clean link copy

test: units integration contract sanity lint docs-lint build
	@echo "make test: all checks passed"

# The oldest supported ansible-core (meta/runtime.yml): integration and sanity again, in its own venv.
# A slower CI leg after `make test` (see .ci/run), not part of the gate.
COMPAT_VENV := .venv-2.16
$(COMPAT_VENV)/.installed: requirements.txt requirements-compat.txt
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-compat.txt
	touch $@

compat: $(COMPAT_VENV)/.installed link copy
	$(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider -n 2 tests/integration
	$(MAKE) --no-print-directory sanity-run PY=$(COMPAT_VENV)/bin/python

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

link: $(STAMP)
	@mkdir -p $(dir $(LINK))
	@[ -L $(LINK) ] || ln -s $(CURDIR) $(LINK)

copy: $(STAMP)
	@rm -rf $(COPY_ROOT) && mkdir -p $(COPY)
	@git ls-files -co --exclude-standard -z | xargs -0 ls -d 2>/dev/null | tar -cf - -T - | tar -xf - -C $(COPY)
	@# ansible-test lists files with git; the copy is its own repository so .gitignore here does not hide it.
	@cd $(COPY) && git init -q && git add -A

units: link
	$(PYTEST) -n 2 tests/unit tests/emulator_tests

# Exit code 5 means "no tests collected": fine while a suite is still empty.
integration: link
	rm -rf tests/output/journal
	$(PYTEST) -n 2 tests/integration || [ $$? -eq 5 ]

contract: link
	CERTOPS_REQUIRE_JOURNAL=1 $(PYTEST) tests/contract -rs

sanity: copy sanity-run

# ansible-test of the venv that $(PY) belongs to, with the offline pip bootstrap in its cache.
sanity-run:
	@for v in $$($(PY) .ci/ansible_test_pip_versions.py); do \
	  mkdir -p ~/.ansible/test/cache; cp .ci/get_pip_offline.py ~/.ansible/test/cache/get_pip_$${v//./_}.py; done
	cd $(COPY) && $(CURDIR)/$(dir $(PY))ansible-test sanity --venv --python 3.11 --color no

lint: link
	ansible-lint
	antsibull-changelog lint

docs-lint: copy
	cd $(COPY) && antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck .

# Build the tarball, install it into an empty collections path, and render every plugin's docs from there.
build: copy
	rm -rf .build/dist .build/installed && mkdir -p .build/dist .build/installed
	cd $(COPY) && ansible-galaxy collection build --output-path $(CURDIR)/.build/dist
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.build/installed ansible-galaxy collection install -p .build/installed .build/dist/certops-cloudflare-*.tar.gz
	@for m in $$(ls plugins/modules/*.py 2>/dev/null | xargs -rn1 basename | sed 's/\.py$$//'); do \
	  ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.build/installed ansible-doc certops.cloudflare.$$m > /dev/null || exit 1; \
	  echo "ansible-doc renders certops.cloudflare.$$m"; done
	@for f in $$(ls plugins/filter/*.yml 2>/dev/null | xargs -rn1 basename | sed 's/\.yml$$//'); do \
	  ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.build/installed ansible-doc -t filter certops.cloudflare.$$f > /dev/null || exit 1; \
	  echo "ansible-doc renders the filter certops.cloudflare.$$f"; done
	@for r in $$(ls roles); do \
	  ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.build/installed ansible-doc -t role certops.cloudflare.$$r > /dev/null || exit 1; \
	  echo "ansible-doc renders the role certops.cloudflare.$$r"; done

emulator: $(STAMP)
	PYTHONPATH=tests $(PY) -m emulator

# The tour: the emulator with the demo zone, then the playbook certops.cloudflare.rotate previewed, run and re-run.
demo: link
	PYTHONPATH=tests $(PY) tests/demo/run_demo.py

# API calls, wall time against a plain requests loop, the scaled rate limit and memory at N custom hostnames
# (docs/benchmarks.md). Exits non-zero when a count target is missed. make bench BENCH_ARGS="--sizes 100,1000"
bench: link
	PYTHONPATH=tests $(PY) tests/bench/run_bench.py $(BENCH_ARGS)

# Faults, crashes, hostile input, secrets and check mode (docs/reliability.md): a CI leg after `make test`.
reliability: link
	$(PYTEST) -n 2 tests/reliability

clean:
	rm -rf .build tests/output
