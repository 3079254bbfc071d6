# certops.cloudflare development tasks. `make test` is the gate CI runs; `make demo` the tour; `make help` lists them all.
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

.PHONY: test compat units integration contract sanity lint docs-lint build demo emulator bench reliability clean link copy \
	sanity-distro sanity-run no-sanity-ignores ee galaxy-import docs docs-site changelog

test: units integration contract sanity lint docs-lint build ## the gate CI runs: unit, integration, contract, sanity, lint, docs lint, build (the default goal)
	@echo "make test: all checks passed"

# One line per target, from the `## ` comment on its rule line.
.PHONY: help
help: ## this list
	@echo "make TARGET (no target: test)"
	@awk -F ':.*## ' '/^[a-zA-Z0-9_.-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The oldest supported ansible-core (meta/runtime.yml): integration and sanity again, in its own venv.
# A slower CI leg after `make test` (see .ci/run), not part of the gate.
COMPAT_VENV := .venv-2.16
$(COMPAT_VENV)/.installed: requirements.txt requirements-compat.txt
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-compat.txt
	touch $@

# What differs between ansible-core releases is Ansible's side: argument specs, check and diff mode, results, async, the
# action plugin, the role's templating. So compat runs every module's own tests and the role's core runs; the suites of
# the collection's own logic (bad values of every option, decisions, files, hardening, audit) and the role scenarios
# run on the newest ansible-core only, for CI's time.
COMPAT_TESTS := $(addprefix tests/integration/,test_harness.py test_adhoc_readme.py test_custom_hostname.py test_custom_hostname_cert.py \
	test_custom_hostname_cert_list.py test_custom_hostname_cert_info.py test_hostname_client_cert.py test_cert_pack.py test_custom_cert.py \
	test_edge_cert_info.py test_rotation_plan.py test_rotation_apply.py test_rotation_role.py test_rotation_report.py test_rotation_progress.py test_origin_ca_cert.py \
	test_origin_pull_cert.py)

compat: $(COMPAT_VENV)/.installed link copy ## every module's tests, the role's core runs and sanity on ansible-core 2.16, the oldest supported (.venv-2.16)
	$(COMPAT_VENV)/bin/python -m pytest -p no:cacheprovider -n 2 --dist loadscope -m "not scenario" $(COMPAT_TESTS)
	$(MAKE) --no-print-directory sanity-run PY=$(COMPAT_VENV)/bin/python

# The `ansible` package (awx.awx, community.general) in its own venv, for the AWX configuration as code and the
# notification examples: their tests run with its Python (tests/awx). Never a dependency of the collection.
AWX_VENV := .venv-ansible
AWX_COLLECTIONS = $(shell $(AWX_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
$(AWX_VENV)/.installed: requirements.txt requirements-awx.txt
	$(PYTHON) -m venv $(AWX_VENV)
	$(AWX_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-awx.txt
	touch $@

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

link: $(STAMP) ## internal: the dev venv and the symlink under .build/collections the tools import the collection from
	@mkdir -p $(dir $(LINK))
	@[ -L $(LINK) ] || ln -s $(CURDIR) $(LINK)

copy: $(STAMP) ## internal: a copy of the tree under .build/copy for ansible-test and antsibull-docs
	@rm -rf $(COPY_ROOT) && mkdir -p $(COPY)
	@git ls-files -co --exclude-standard -z | xargs -0 ls -d 2>/dev/null | tar -cf - -T - | tar -xf - -C $(COPY)
	@# ansible-test lists files with git; the copy is its own repository so .gitignore here does not hide it.
	@cd $(COPY) && git init -q && git add -A

units: graphviz link ## unit tests and the emulator's own tests
	$(PYTEST) -n 2 tests/unit tests/emulator_tests

# Exit code 5 means "no tests collected": fine while a suite is still empty.
integration: link ## modules, role and playbook through ansible-playbook against the emulator (less the role scenarios)
	rm -rf tests/output/journal
	$(PYTEST) -n 2 --dist loadscope -m "not scenario and not metrics and not awx and not nginx and not e2e" tests/integration || [ $$? -eq 5 ]

# The role scenarios of many playbook runs each (retirement with proof, audits, rate-limit blocks): a CI leg after `make test`.
.PHONY: scenarios
scenarios: link ## the role scenarios of many playbook runs each (retirement with proof, audits, rate-limit blocks)
	$(PYTEST) -n 2 --dist loadscope -m "scenario and not awx" tests/integration

contract: link ## the requests and answers the tests journaled, checked against Cloudflare's OpenAPI document
	CERTOPS_REQUIRE_JOURNAL=1 $(PYTEST) tests/contract -rs

sanity: no-sanity-ignores copy sanity-run ## ansible-test sanity --venv on the copy, with no ignore files

# ansible-test sanity passes with no ignore files: fix a finding rather than ignore it.
no-sanity-ignores: ## internal: fails when a tests/sanity/ignore-*.txt exists
	@if ls tests/sanity/ignore-*.txt 2>/dev/null; then echo "sanity ignore files are not allowed: fix the findings"; exit 1; fi

# `make sanity` where ansible-test runs on a distribution's Python whose ensurepip bundles no pip wheel (Debian's
# /usr/bin/python3): a venv of that Python holding only ansible-core, then the same sanity run. A CI leg after `make test`.
DISTRO_PYTHON ?= /usr/bin/python3
DISTRO_VENV := .venv-distro
$(DISTRO_VENV)/.installed: requirements-dev.txt
	$(DISTRO_PYTHON) -m venv $(DISTRO_VENV)
	$(DISTRO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "$$(grep '^ansible-core' requirements-dev.txt)"
	touch $@

sanity-distro: no-sanity-ignores $(DISTRO_VENV)/.installed copy ## make sanity with ansible-test on a distribution Python (DISTRO_PYTHON, default /usr/bin/python3)
	DISTRO_PYTHON=$(DISTRO_PYTHON) $(PYTEST) .ci/test_get_pip_offline.py
	@$(DISTRO_VENV)/bin/python -c 'import sys; print("sanity on", sys.executable, "->", sys._base_executable)'
	$(MAKE) --no-print-directory sanity-run PY=$(DISTRO_VENV)/bin/python

# ansible-test of the venv that $(PY) belongs to, with the offline pip bootstrap in its cache; the bootstrap falls back
# to the dev venv's pip (named in get_pip_offline.pip_dir) where the interpreter has no pip wheel (.ci/get_pip_offline.py).
ANSIBLE_TEST_CACHE := $(HOME)/.ansible/test/cache
sanity-run: ## internal: ansible-test sanity of the venv PY belongs to, on the copy
	@mkdir -p $(ANSIBLE_TEST_CACHE)
	@$(CURDIR)/$(VENV)/bin/python -c 'import os, pip; print(os.path.dirname(os.path.dirname(pip.__file__)))' \
	  > $(ANSIBLE_TEST_CACHE)/get_pip_offline.pip_dir
	@for v in $$($(PY) .ci/ansible_test_pip_versions.py); do cp .ci/get_pip_offline.py $(ANSIBLE_TEST_CACHE)/get_pip_$${v//./_}.py; done
	cd $(COPY) && $(CURDIR)/$(dir $(PY))ansible-test sanity --venv --python 3.11 --color no

# ansible-lint sees the collections of the `ansible` package (.venv-ansible) too, which the AWX configuration as code
# and the notification examples use (awx.awx, community.general).
lint: link $(AWX_VENV)/.installed ## ansible-lint (production profile) and antsibull-changelog lint
	ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS):$(AWX_COLLECTIONS) ansible-lint
	antsibull-changelog lint

docs-lint: copy ## antsibull-docs lint-collection-docs on the plugin docs
	cd $(COPY) && antsibull-docs lint-collection-docs --plugin-docs --skip-rstcheck .

# Build the tarball, install it into an empty collections path, and render every plugin's docs from there.
build: copy ## the tarball, installed into an empty path, every plugin's and role's docs rendered with ansible-doc
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

# Release tooling in its own venv: galaxy-importer pins packages (attrs, flake8) the dev venv does not share.
TOOLS_VENV := .venv-tools
$(TOOLS_VENV)/.installed: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	touch $@

# The build context of docs/examples/execution-environment.yml with the built tarball, then the context's own galaxy
# and introspection steps run here (.ci/check_ee_context.py): building the image needs podman or docker, CI has neither.
EE_DIR := .build/ee
ee: $(TOOLS_VENV)/.installed build ## the execution environment's build context, checked without a container engine
	rm -rf $(EE_DIR) && mkdir -p $(EE_DIR)
	cp docs/examples/execution-environment.yml $(EE_DIR)/
	cp .build/dist/certops-cloudflare-*.tar.gz $(EE_DIR)/certops-cloudflare.tar.gz
	cd $(EE_DIR) && $(CURDIR)/$(TOOLS_VENV)/bin/ansible-builder create -f execution-environment.yml -c context
	$(TOOLS_VENV)/bin/python .ci/check_ee_context.py $(EE_DIR)/context

# galaxy-importer, the checks Galaxy runs on upload, on the built tarball in its local mode (.ci/galaxy-importer.cfg
# says which part needs a container and is off). Any error or warning it logs fails the target.
GALAXY_IMPORT_DIR := .build/galaxy-import
galaxy-import: $(TOOLS_VENV)/.installed build ## galaxy-importer, the checks Galaxy runs on upload, on the built tarball
	rm -rf $(GALAXY_IMPORT_DIR) && mkdir -p $(GALAXY_IMPORT_DIR)
	set -o pipefail; cd $(GALAXY_IMPORT_DIR) && PATH=$(CURDIR)/$(TOOLS_VENV)/bin:$$PATH GALAXY_IMPORTER_CONFIG=$(CURDIR)/.ci/galaxy-importer.cfg \
	  $(CURDIR)/$(TOOLS_VENV)/bin/python -m galaxy_importer.main $(CURDIR)/.build/dist/certops-cloudflare-*.tar.gz 2>&1 | tee import.log
	@if grep -E '^(ERROR|WARNING|CRITICAL)' $(GALAXY_IMPORT_DIR)/import.log; then echo "galaxy-importer: fix the lines above"; exit 1; fi
	@grep -q '^Importer processing completed successfully' $(GALAXY_IMPORT_DIR)/import.log

# The static docs site in .build/docsite/build/html, offline: antsibull-docs sphinx-init and collection on the collection
# installed from the tarball (every module, the filter and the role), each Markdown guide docs/<name>.md put in place of
# its pointer page docs/docsite/rst/guide_<name>.rst (MyST), its diagrams drawn from their Graphviz sources
# (sphinx.ext.graphviz, so Graphviz is installed first), then sphinx-build with warnings as errors. tests/docsite then
# checks the built site (every diagram a picture, never its source as text) and takes a headless Chromium screenshot of
# the rotation guide for review; the browser and its driver are installed when missing, as for `make browser`.
DOCSITE := .build/docsite
DOCS_STAMP := $(VENV)/.docs-installed
DOCS_COLLECTIONS ?= $(CURDIR)/.build/installed
$(DOCS_STAMP): requirements-docs.txt $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-docs.txt
	touch $@

docs: $(DOCS_STAMP) build docs-site ## the static docs site in .build/docsite/build/html (Sphinx with warnings as errors), checked, and a screenshot of the rotation guide
	@.ci/apt_install.sh chromium:chromium chromedriver:chromium-driver || [ "$${CI:-}" != true ]
	SE_OFFLINE=true $(PYTEST) -rs tests/docsite
	@[ ! -f $(DOCSITE)/screenshots/rotation.png ] || echo "docs site: screenshot of the rotation guide: $(DOCSITE)/screenshots/rotation.png"

docs-site: ## internal: the docs site from the collection already installed in DOCS_COLLECTIONS
	@.ci/apt_install.sh dot:graphviz
	rm -rf $(DOCSITE) && mkdir -p $(DOCSITE)/rst && chmod 700 $(DOCSITE) $(DOCSITE)/rst
	cd $(DOCSITE) && ANSIBLE_COLLECTIONS_PATH=$(DOCS_COLLECTIONS) antsibull-docs sphinx-init --use-current --squash-hierarchy \
	  --fail-on-error --dest-dir . --project certops.cloudflare --title certops.cloudflare --html-short-title certops.cloudflare \
	  --copyright "certops.cloudflare maintainers" certops.cloudflare > /dev/null
	cat .ci/docsite_conf.py >> $(DOCSITE)/conf.py
	$(PY) .ci/ansible_docs_inventory.py $(DOCSITE)/ansible_devel.inv
	cd $(DOCSITE) && ANSIBLE_COLLECTIONS_PATH=$(DOCS_COLLECTIONS) antsibull-docs --config-file antsibull-docs.cfg collection \
	  --cleanup everything --fail-on-error --use-current --squash-hierarchy --dest-dir rst certops.cloudflare
	$(PY) .ci/docsite_guides.py $(DOCSITE)/rst
	cd $(DOCSITE) && sphinx-build -M html rst build -c . -W --keep-going -q
	@echo "docs site: $(DOCSITE)/build/html/index.html"

# The diagrams of docs/: each docs/<name>.dot rendered by Graphviz to docs/<name>.svg, committed beside it for readers
# of the repository (tests/unit/test_diagrams.py fails when one is not current). Graphviz comes from Debian:
# .ci/apt_install.sh installs it when `dot` is missing and this runs as root, else says what to install.
.PHONY: diagrams graphviz
diagrams: ## render every docs/*.dot to the SVG beside it (installs Graphviz when missing and root)
	@.ci/apt_install.sh dot:graphviz
	@for f in docs/*.dot; do dot -Tsvg "$$f" -o "$${f%.dot}.svg" && echo "rendered $${f%.dot}.svg"; done

# Before the unit tests: without Graphviz the diagram test skips, and under CI (CI=true) fails.
graphviz: ## internal: Graphviz's dot, installed from Debian when missing and run as root
	@.ci/apt_install.sh dot:graphviz || [ "$${CI:-}" != true ]

# CHANGELOG.md and CHANGELOG.rst for the version in galaxy.yml from every fragment and plugin. Fragments are kept
# (changelogs/config.yaml), so this re-runs until the release: new fragments and modules join it, edited ones are
# refreshed, removed ones leave. At the release, run it with the day's date: make changelog CHANGELOG_ARGS="--date ..."
changelog: link ## CHANGELOG.md and CHANGELOG.rst from the fragments (CHANGELOG_ARGS="--date ..." at the release)
	cd $(LINK) && antsibull-changelog release --version $$($(PY) -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])') \
	  --update-existing --refresh --reload-plugins $(CHANGELOG_ARGS)

# EMULATOR_EDGE_PORT=8443 also opens the TLS edge on 127.0.0.1 (what each hostname serves; tests/emulator/README.md).
emulator: $(STAMP) ## the Cloudflare API emulator in the foreground (EMULATOR_EDGE_PORT=8443 adds its TLS edge)
	$(if $(EMULATOR_EDGE_PORT),EMULATOR_EDGE_PORT=$(EMULATOR_EDGE_PORT)) PYTHONPATH=tests $(PY) -m emulator

# The tour: the emulator with the demo zone, then the playbook certops.cloudflare.rotate previewed, run and re-run.
demo: link ## the tour: the emulator, then the rotate playbook previewed, run and re-run
	PYTHONPATH=tests $(PY) tests/demo/run_demo.py

# The role against a plain requests loop at N = 1,000, 10,000 and 100,000 custom hostnames, in alternated pairs on an
# emulator in its own process: API calls, wall and CPU time per extra hostname, memory of every process, the real pace
# and the scaled rate limit (docs/benchmarks.md). Exits 1 when a count or memory target is missed, 2 when a run fails.
bench: link ## API calls, time, memory and rate limit at N custom hostnames (BENCH_ARGS="--sizes 100,1000" for CI's)
	PYTHONPATH=tests $(PY) tests/bench/run_bench.py $(BENCH_ARGS)

# Faults, crashes, hostile input, secrets and check mode (docs/reliability.md): a CI leg after `make test`.
reliability: link ## faults, crashes, hostile input, secrets and check mode
	$(PYTEST) -n 2 tests/reliability

# edge_cert_info probing 1,000 hostnames at the emulator's TLS edge with the default workers: a CI leg after `make test`
# (which skips it); the time is printed, not asserted.
.PHONY: edge-scale
edge-scale: link ## edge_cert_info probing 1,000 hostnames at the emulator's TLS edge
	CERTOPS_EDGE_SCALE=1 $(PYTEST) -s tests/integration/test_edge_cert_info.py -k one_thousand

# The playbook over 10,000 custom hostnames with the edge verified, one run: every result the role registers (loop
# items and retries included) stays under 200 KB as JSON, and so does edge_cert_info's when every hostname fails.
# A CI leg after `make test` (which skips it).
.PHONY: registered-results
registered-results: link ## every result the role registers at 10,000 hostnames with the edge verified is under 200 KB
	CERTOPS_REGISTERED_RESULTS=1 $(PYTEST) -s tests/integration/test_registered_results.py

# The HTML report in headless Chromium (Debian's chromium and chromedriver through Selenium, offline): the demo's report
# and one of 10,000 objects, at 1,400 x 900. Installs the browser and its driver when missing (as root); a CI leg.
.PHONY: browser
browser: link ## the HTML report opened in headless Chromium (installs Debian's chromium and chromium-driver as root)
	@.ci/apt_install.sh chromium:chromium chromedriver:chromium-driver || [ "$${CI:-}" != true ]
	SE_OFFLINE=true $(PYTEST) -rs tests/browser

# The role's metrics with the real parts: Debian's Pushgateway (a private one on 127.0.0.1, read back through its API)
# and promtool on every metrics file the tests write and on docs/metrics-alerts.yml. Installs both when missing (as root);
# a CI leg.
.PHONY: metrics
metrics: link ## the role's metrics pushed to a real Pushgateway, checked by promtool (installs Debian's prometheus-pushgateway and prometheus as root)
	@.ci/apt_install.sh prometheus-pushgateway:prometheus-pushgateway promtool:prometheus || [ "$${CI:-}" != true ]
	CERTOPS_PROMTOOL=$$(command -v promtool) $(PYTEST) -n 2 --dist loadscope -rs tests/integration/test_rotation_metrics.py tests/integration/test_metrics_pushgateway.py

# Origin certificates end to end with real origin servers: two private instances of Debian's nginx on 127.0.0.1, rotated
# through the playbook certops.cloudflare.origin_rotate. Installs nginx when missing (as root); a CI leg.
.PHONY: origins
origins: link ## origin servers on real nginx, rotated through certops.cloudflare.origin_rotate (installs Debian's nginx as root)
	@.ci/apt_install.sh nginx:nginx || [ "$${CI:-}" != true ]
	$(PYTEST) -rs -m nginx tests/integration/test_origin_rotate_nginx.py

# AWX as code without an AWX server (syntax, every task's arguments against the installed awx.awx module, names,
# extra variables against the role's argument spec), both job templates' playbooks through ansible-runner, and the
# mail notification to a local SMTP sink: a CI leg.
.PHONY: awx
awx: link $(AWX_VENV)/.installed ## AWX as code checked against awx.awx, its templates run through ansible-runner, the mail notification
	$(AWX_VENV)/bin/python -m pytest -p no:cacheprovider -rs tests/awx
	$(PYTEST) -rs -m awx tests/integration/test_awx_runner.py

# From an ACME order to the edge: the playbook certops.cloudflare.issue_and_rotate against a private Pebble (Debian's
# `pebble`, installed when missing as root) through community.crypto, which the `ansible` package's venv holds; a CI leg.
.PHONY: e2e
e2e: link $(AWX_VENV)/.installed ## ACME orders from a real Pebble through community.crypto, rotated and verified at the edge, renewed (installs Debian's pebble as root)
	@.ci/apt_install.sh pebble:pebble || [ "$${CI:-}" != true ]
	$(AWX_VENV)/bin/python -m pytest -p no:cacheprovider -rs -m e2e tests/integration/test_issue_and_rotate_acme.py

clean: ## remove .build and tests/output
	rm -rf .build tests/output
