# Two commands: `make run` and `make test`. Everything they need is set up here.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
WEB_INSTALLED := clients/web/node_modules/.installed
OIDC_INSTALLED := tests/oidc/node_modules/.installed
LIGHTHOUSE_INSTALLED := tests/lighthouse/node_modules/.installed
ARGS ?=

.PHONY: run test lint typecheck unit bench swarm staff-bot setup chromium promtool espeak haproxy clean oidc-provider

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(WEB_INSTALLED): clients/web/package.json clients/web/package-lock.json
	cd clients/web && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The OpenID Connect provider the sign-in tests run (oidc-provider, pinned in its own package.json).
$(OIDC_INSTALLED): tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Lighthouse, the accessibility and best-practices audits tests/web/test_lighthouse.py runs
# (pinned in its own package.json: 12.x, as Lighthouse 13 needs Node 22).
$(LIGHTHOUSE_INSTALLED): tests/lighthouse/package.json tests/lighthouse/package-lock.json
	cd tests/lighthouse && npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(INSTALLED) $(WEB_INSTALLED) $(OIDC_INSTALLED) $(LIGHTHOUSE_INSTALLED)

## The bundled test identity provider on http://127.0.0.1:9000 (users: tests/oidc/provider.mjs).
oidc-provider: $(OIDC_INSTALLED)
	node tests/oidc/provider.mjs

## Start the server on http://127.0.0.1:8000 (HOST, PORT, REDIS_URL; ARGS="--port 9000").
run: setup
	-@$(MAKE) --no-print-directory espeak  # training voices; without them text only
	$(PY) -m server run $(ARGS)

## A staff bot serving desk-2 of the running server (make run in another terminal).
staff-bot: setup
	$(PY) -m agents.staff_bot --desk desk-2 --handle-seconds 20 --seconds 3600 \
	  --token "$$($(PY) -m server token --role staff --name 'Sara Lind')"

## Lint, type-check and run every test (installs Debian's chromium, promtool, espeak-ng and haproxy when root).
test: setup chromium promtool espeak haproxy lint typecheck unit

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; \
	  fi; \
	fi

# promtool (Debian's prometheus package) checks docs/prometheus/servicepoint-rules.yml.
promtool:
	@if ! command -v promtool >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian's prometheus for promtool"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else \
	    echo "The rules test needs promtool: sudo apt-get install prometheus"; exit 1; \
	  fi; \
	fi

# espeak-ng (Debian) speaks the simulated citizens' lines of the training scenarios;
# without it training runs in text only.
espeak:
	@if ! command -v espeak-ng >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian's espeak-ng for the training voices"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng >/dev/null; \
	  else \
	    echo "The training voices need espeak-ng: sudo apt-get install espeak-ng"; exit 1; \
	  fi; \
	fi

# HAProxy (Debian) balances the cluster tests' server processes (tests/cluster), as in docs/DEPLOY.md.
haproxy:
	@if ! command -v haproxy >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian's haproxy for the cluster tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null; \
	  else \
	    echo "The cluster tests need haproxy: sudo apt-get install haproxy"; exit 1; \
	  fi; \
	fi

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

# Two pytest processes side by side: the browser tests, which mostly wait on
# Chromium and on servers, next to everything else, so the wall time is about
# the longer half rather than the sum. The browser half's report is printed
# after the other's; either half failing fails the target.
BROWSER_TESTS := tests/web tests/auth/test_signin_web.py
unit: setup
	@mkdir -p var
	@$(VENV)/bin/pytest -p no:cacheprovider --durations=15 $(BROWSER_TESTS) > var/pytest-browser.log 2>&1 & browser=$$!; \
	$(VENV)/bin/pytest --durations=15 $(addprefix --ignore=,$(BROWSER_TESTS)); rest=$$?; \
	wait $$browser; browser_rc=$$?; \
	echo "=== the browser tests ($(BROWSER_TESTS)) ==="; cat var/pytest-browser.log; \
	echo "pytest exit codes: browser tests $$browser_rc, the rest $$rest"; \
	[ $$rest -eq 0 ] && [ $$browser_rc -eq 0 ]

## Benchmarks: print JSON lines, compare against a baseline from the same run.
bench: setup
	$(PY) -m bench.spatial --json
	$(PY) -m bench.swarm --json
	$(PY) -m bench.capacity --json
	$(PY) -m bench.voice --json
	$(PY) -m bench.events --json
	$(PY) -m bench.insight --json
	$(PY) -m bench.search --json
	$(PY) -m bench.privacy --json
	$(PY) -m bench.scale --json
	$(PY) -m bench.home --json

clean:
	rm -rf $(VENV) clients/web/node_modules tests/oidc/node_modules tests/lighthouse/node_modules .mypy_cache .ruff_cache .pytest_cache
