# Two commands: `make run` and `make test`. Everything else is a helper for those two.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
AXE := tests/e2e/vendor/axe-core/axe.min.js
AXE_VERSION := 4.10.3
# Installs come from uv.lock (every package pinned, with its hashes), through uv. uv itself is
# pinned with its hashes in requirements-uv.txt and lives in a virtual environment of its own.
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
# Use the Python found here; never download one.
export UV_PYTHON_DOWNLOADS := never

# promtool and amtool check the monitoring files in ops/ (tests/observability/test_ops_config.py):
# taken out of Debian's prometheus and prometheus-alertmanager packages, not installed (that
# would start their daemons).
MONITORING_TOOLS := $(TOOLS)/monitoring
PROMTOOL := $(MONITORING_TOOLS)/promtool

.PHONY: run test lint format lock bench bench-search bench-rush bench-api-rush bench-purchase bench-seated bench-webhooks bench-checkin bench-notify bench-dashboard bench-cache bench-sizes bench-load bench-load-fault browser clean-db

$(UV): requirements-uv.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q --require-hashes -r requirements-uv.txt
	touch $(UV)

# `--locked`: stop, rather than resolve anew, when uv.lock no longer matches pyproject.toml.
$(STAMP): pyproject.toml uv.lock $(UV)
	@$(UV) sync --locked --extra dev --python $(PYTHON) || { \
		echo "uv.lock does not match pyproject.toml: run 'make lock' and commit uv.lock" >&2; exit 1; }
	touch $(STAMP)

# Refresh the lock files: every package at the newest version pyproject.toml allows, and uv
# at UV_VERSION.
lock: $(UV)
	echo "uv==$(UV_VERSION)" | $(UV) pip compile --quiet --generate-hashes \
		--custom-compile-command "make lock" --output-file requirements-uv.txt -
	$(UV) lock --upgrade --python $(PYTHON)

run: $(STAMP)
	$(BIN)/python -m app.launcher run

# Debian's chromium drives the end-to-end tests; playwright cannot download its own browser here.
# Poppler's pdftoppm and pdftotext read generated ticket PDFs back in the tests.
browser:
	@command -v chromium >/dev/null 2>&1 || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium )
	@command -v pdftoppm >/dev/null 2>&1 || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq poppler-utils )
	@command -v npm >/dev/null 2>&1 || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm )

$(AXE):
	@command -v npm >/dev/null 2>&1 || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm )
	mkdir -p tests/e2e/vendor
	cd tests/e2e/vendor && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && rm -rf axe-core && mkdir axe-core \
		&& tar xzf axe-core-$(AXE_VERSION).tgz -C axe-core --strip-components=1 && rm axe-core-$(AXE_VERSION).tgz

$(PROMTOOL):
	rm -rf $(MONITORING_TOOLS) && mkdir -p $(MONITORING_TOOLS)/debs
	cd $(MONITORING_TOOLS)/debs && { apt-get download -qq prometheus prometheus-alertmanager 2>/dev/null \
		|| { $(SUDO) apt-get update -qq && apt-get download -qq prometheus prometheus-alertmanager; }; }
	for deb in $(MONITORING_TOOLS)/debs/*.deb; do dpkg-deb -x $$deb $(MONITORING_TOOLS)/root; done
	cp $(MONITORING_TOOLS)/root/usr/bin/promtool $(MONITORING_TOOLS)/root/usr/bin/amtool $(MONITORING_TOOLS)/
	rm -rf $(MONITORING_TOOLS)/debs $(MONITORING_TOOLS)/root

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/deptry .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) browser $(AXE) $(PROMTOOL) lint
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: bench-search bench-rush bench-api-rush bench-purchase bench-seated bench-webhooks bench-checkin bench-notify bench-dashboard bench-cache bench-load bench-load-fault

bench-search: $(STAMP)
	$(BIN)/python -m bench.search

# Debian's wrk generates the rush's load (bench/rush.lua): far lighter than a Python client.
bench-rush: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk )
	$(BIN)/python -m bench.rush

# The rush through POST /api/v1/bookings (bearer tokens) and through the form in the same run.
bench-api-rush: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk )
	$(BIN)/python -m bench.api_rush

bench-purchase: $(STAMP)
	$(BIN)/python -m bench.purchase

# Seated rush (best available, then general admission, then hand-picked seats); wrk as above.
bench-seated: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk )
	$(BIN)/python -m bench.seated

# A provider's success webhooks, each delivered three times at once, through /webhooks/demo.
bench-webhooks: $(STAMP)
	$(BIN)/python -m bench.webhooks

# Twenty phones scan a 5,000-ticket event at its door, 10% of the tickets twice
# (CHECKIN_PAUSE_MS=0: as fast as the site answers).
bench-checkin: $(STAMP)
	$(BIN)/python -m bench.checkin

# The reminders of 50,000 bookings, sent by two worker processes to a local SMTP sink
# (aiosmtpd), one worker killed with SIGKILL and started again midway.
bench-notify: $(STAMP)
	$(BIN)/python -m bench.notify

# The admin dashboard over 100,000 bookings (with their payments and refunds), asked for 50
# times by a signed-in admin through gunicorn; prints the p95 and the plans of its statements.
bench-dashboard: $(STAMP)
	$(BIN)/python -m bench.dashboard

# The event page's requests/s with the per-process cache of event details and without it, in
# one run: two gunicorn servers on one database, loaded in turn by wrk (as bench-rush).
bench-cache: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || ( $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk )
	$(BIN)/python -m bench.cache

# How big the data grows (docs/scaling.md): a 10,000-event catalogue, 100,000 past bookings
# and one event sold for real to 5,000 buyers; rows and bytes per table.
bench-sizes: $(STAMP)
	$(BIN)/python -m bench.sizes

# The mixed workload of bench/locustfile.py, run by locust for a fixed time (bench/mixed_load.py).
bench-load: $(STAMP)
	$(BIN)/python -m bench.mixed_load

# The same, with the worker and one web process killed in the middle, then checked for losses.
bench-load-fault: $(STAMP)
	$(BIN)/python -m bench.mixed_load --fault
