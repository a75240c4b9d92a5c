# Water utility on Tryton 8.0 LTS: development, demo and tests.
#
#   make run              install, fetch the web client, build the demo database, start
#   make test             every test of the module on SQLite and on PostgreSQL side by side, and the portal in a browser (make e2e)
#   make demo N=5000      rebuild the demo database with N subscriptions
#   make clean / distclean
#
# Run make from the repository root.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip --disable-pip-version-check
MODULE := apps/water_utility
MODULE_NAME := water_utility
TEST_PACKAGE := trytond.modules.$(MODULE_NAME).tests

DB := water
N ?= 300
CONFIG := config/trytond.conf

SAO_VERSION := 8.0.11
SAO_DIR := .web/sao
SAO_ROOT := $(SAO_DIR)/package

# make run / db / demo use SQLite (sites/$(DB).sqlite) unless TRYTOND_DATABASE__URI names a
# PostgreSQL server; then the database $(DB) on that server, and the queue worker too.
ifeq ($(filter postgresql://% postgres://%,$(TRYTOND_DATABASE__URI)),)
BACKEND := sqlite
else
BACKEND := postgresql
endif

PG_DEFAULT_URI := postgresql://postgres@127.0.0.1:5432/
# make test uses TRYTOND_DATABASE__URI for PostgreSQL when it names a PostgreSQL server
TEST_PG_URI := $(if $(filter postgresql://% postgres://%,$(TRYTOND_DATABASE__URI)),$(TRYTOND_DATABASE__URI),$(PG_DEFAULT_URI))
REQUIRE_POSTGRESQL ?= 0
# The databases the tests start from are cached (trytond's DB_CACHE), keyed by a hash of
# the module's sources and of the installed packages: on SQLite as files under
# TEST_CACHE_ROOT, on PostgreSQL as template databases named wtest-<key>-… (a copy takes a
# third of a second, a pg_restore five), with the browser tests' demo of the day.
# TEST_CACHE=0 disables it.
TEST_CACHE ?= 1
TEST_CACHE_ROOT ?= $(VENV)/cache/test-db
export TEST_NETWORK ?= 0

INSTALLED := $(VENV)/.installed
WEB_INSTALLED := $(SAO_DIR)/.installed-$(SAO_VERSION)
DB_FILE := sites/$(DB).sqlite

# The venv's commands (trytond-admin, honcho, ...) come first for everything make starts.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# SQLite databases live in sites/. The path must be absolute (trytond 8.0 turns a relative
# one into /sites) and is therefore not in config/trytond.conf, whose values would override
# the environment: TRYTOND_* variables apply only to keys the configuration file leaves unset.
export TRYTOND_DATABASE__PATH := $(CURDIR)/sites

.PHONY: help install system browser web db run demo test e2e test-clock clean distclean bench

help:
	@echo "make run            install, fetch sao $(SAO_VERSION), build sites/$(DB).sqlite (N=$(N)), start on http://127.0.0.1:8000/"
	@echo "make test           all tests of $(MODULE_NAME) on SQLite and PostgreSQL side by side ($(TEST_PG_URI))"
	@echo "make demo N=5000    rebuild the demo database with N subscriptions"
	@echo "make e2e            the portal in headless Chromium on a demo of its own (also part of make test)"
	@echo "make test-clock     make test with the clock shifted to a year-end, a Friday evening, … (CLOCKS=year-end …)"
	@echo "make install | web | db | bench | clean | distclean"

# --- Python stack ---------------------------------------------------------------------------

install: $(INSTALLED) system

# Debian libraries WeasyPrint needs to print bills and route sheets: pango
# draws the text; harfbuzz-subset embeds only the glyphs used (without it
# fontTools subsets the fonts in Python, about 20 times slower).  Installed
# with apt-get when missing and make runs as root (waiting for another
# apt-get to finish); otherwise say what to do.
SYSTEM_LIBS := libpango-1.0.so.0:libpango-1.0-0 \
	libpangoft2-1.0.so.0:libpangoft2-1.0-0 \
	libharfbuzz-subset.so.0:libharfbuzz-subset0
# apt-get install $(1) quietly, waiting for another apt-get to finish; with the
# package lists updated first when they are too old to know it
APT_GET = apt-get -q -o DPkg::Lock::Timeout=300
apt_install = $(APT_GET) install -y --no-install-recommends $(1) >/dev/null \
	|| { $(APT_GET) update >/dev/null \
		&& $(APT_GET) install -y --no-install-recommends $(1) >/dev/null; }

system:
	@missing=; for pair in $(SYSTEM_LIBS); do \
		lib=$${pair%%:*}; package=$${pair##*:}; \
		ldconfig -p 2>/dev/null | grep -q "$$lib" || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			$(call apt_install,$$missing); \
		else \
			echo "WARNING: missing Debian packages:$$missing (sudo apt-get install$$missing)" >&2; \
		fi; \
	fi

# Debian's chromium for the portal's browser tests: Playwright drives it and
# downloads no browser of its own.
browser:
	@if ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium"; \
			$(call apt_install,chromium); \
		else \
			echo "ERROR: chromium is missing (sudo apt-get install chromium)" >&2; exit 1; \
		fi; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)

# pip installs the module as a copy in site-packages/trytond/modules/water_utility; we
# replace that copy by a symlink to the sources. Before any (re)install only the symlink is
# removed (rm -f, never rm -rf through it): pip's uninstall of the old version deletes the
# files listed in its RECORD, and through the symlink those would be our sources.
$(INSTALLED): requirements.txt $(MODULE)/pyproject.toml $(MODULE)/tryton.cfg | $(PY)
	@link="$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/trytond/modules/$(MODULE_NAME)"; \
	case "$$link" in /*/site-packages/trytond/modules/$(MODULE_NAME)) ;; \
		*) echo "unexpected module path: $$link" >&2; exit 1;; esac; \
	if [ -L "$$link" ]; then rm -f "$$link"; fi; \
	ok=1; \
	$(PIP) install -r requirements.txt './$(MODULE)[test]' || ok=0; \
	if [ -L "$$link" ]; then rm -f "$$link"; elif [ -e "$$link" ]; then rm -rf -- "$$link"; fi; \
	mkdir -p "$$(dirname "$$link")"; \
	ln -s "$(CURDIR)/$(MODULE)" "$$link"; \
	echo "$$link -> $(CURDIR)/$(MODULE)"; \
	if [ $$ok = 0 ]; then echo "make install: pip install failed" >&2; exit 1; fi
	@$(PIP) freeze --all > $@.tmp && mv $@.tmp $@

# --- Web client (sao) -----------------------------------------------------------------------

web: $(WEB_INSTALLED)

# sao's index.html loads its libraries from its own node_modules: install them inside the
# unpacked package (a plain `npm install tryton-sao` puts them one level up and breaks it).
$(WEB_INSTALLED):
	rm -rf $(SAO_DIR)
	mkdir -p $(SAO_DIR)
	cd $(SAO_DIR) && npm pack --silent tryton-sao@$(SAO_VERSION) >/dev/null
	tar -xzf $(SAO_DIR)/tryton-sao-$(SAO_VERSION).tgz -C $(SAO_DIR)
	rm -f $(SAO_DIR)/tryton-sao-$(SAO_VERSION).tgz
	cd $(SAO_ROOT) && npm install --omit=dev --legacy-peer-deps --no-audit --no-fund
	test -f $(SAO_ROOT)/index.html
	touch $@

# --- Demo database --------------------------------------------------------------------------

DEMO := $(PY) tools/demo.py --database $(DB) --subscriptions $(N) --config $(CONFIG)

ifeq ($(BACKEND),sqlite)
db: $(DB_FILE)

# Built only when missing; a failed build leaves no file behind (.DELETE_ON_ERROR).
$(DB_FILE): | $(INSTALLED)
	$(DEMO)
	@test -f $@ || { echo "tools/demo.py did not create $@" >&2; exit 1; }

demo: $(INSTALLED)
	rm -f sites/$(DB).sqlite sites/$(DB).sqlite-journal sites/$(DB).sqlite-wal \
		sites/$(DB).sqlite-shm sites/$(DB)-* sites/logins.txt
	$(MAKE) --no-print-directory db N=$(N)

# trytond-worker cannot run on SQLite: queued tasks run in the web process instead.
RUN_PROCESSES := web cron
else
db: $(INSTALLED)
	@if $(PY) -c "$$PG_HAS_DB_PY" '$(TRYTOND_DATABASE__URI)' $(DB); then \
		echo "database $(DB) exists on $(TRYTOND_DATABASE__URI)"; \
	else \
		echo '$(DEMO)'; $(DEMO) || { $(PY) -c "$$PG_DROP_PY" '$(TRYTOND_DATABASE__URI)' $(DB); exit 1; }; \
	fi

demo: $(INSTALLED)
	$(PY) -c "$$PG_DROP_PY" '$(TRYTOND_DATABASE__URI)' $(DB)
	rm -f sites/logins.txt
	$(MAKE) --no-print-directory db N=$(N)

RUN_PROCESSES := web cron worker
run: export TRYTOND_QUEUE__WORKER := True
endif

run: install web db
	@echo
	@echo "Tryton water utility: http://127.0.0.1:8000/"
	@echo "Database: $(DB) ($(BACKEND); type it on the login form: the server lists no database)"
	@if [ -f sites/logins.txt ]; then echo "Logins:"; cat sites/logins.txt; fi
	@echo
	$(BIN)/honcho start -f Procfile $(RUN_PROCESSES)

# --- Tests ----------------------------------------------------------------------------------

# The portal as a subscriber uses it, in Debian's headless chromium on a phone viewport,
# against a demo of its own (30 subscriptions in a temporary folder, served on a free
# port; E2E_CACHE keeps the demo of the day). PORTAL_URL=http://127.0.0.1:8000 make e2e
# runs them against make run's server instead. Screenshots go to screenshots/portal/.
e2e: $(INSTALLED) system browser
	$(PY) -m unittest discover -v -s $(MODULE)/tests/e2e -t $(MODULE)/tests/e2e

# Prints "<part>: Ran N tests, <unittest summary> in <s> s" for the logs given as arguments
# (each beside its <part>.time) and the totals.
define TEST_SUMMARY_PY
import re, sys
from pathlib import Path
passed = failed = skipped = 0
for path in sys.argv[1:]:
    part = path.rsplit('/', 1)[-1].split('.')[0]
    text = open(path, errors='replace').read()
    seconds = Path(path).with_suffix('.time')
    took = f' in {seconds.read_text().strip()} s' if seconds.exists() else ''
    ran = re.findall(r'^Ran (\d+) tests? in', text, re.M)
    result = re.findall(r'^(OK|FAILED)\b(.*)$$', text, re.M)
    if not ran or not result:
        print(f'{part}: no unittest summary (the run crashed){took}')
        failed += 1
        continue
    total = int(ran[-1])
    status, details = result[-1]
    counts = dict((k.strip(), int(v)) for k, v in re.findall(r'([a-z ]+)=(\d+)', details))
    bad = counts.get('failures', 0) + counts.get('errors', 0) + counts.get('unexpected successes', 0)
    skip = counts.get('skipped', 0)
    passed += total - bad - skip
    failed += bad
    skipped += skip
    print(f'{part}: Ran {total} tests, {status}{details}{took}')
    if total == 0:
        print(f'{part}: no test ran')
        failed += 1
print(f'{passed} passed, {failed} failed, {skipped} skipped')
endef
export TEST_SUMMARY_PY

# Exit 0 when the PostgreSQL server of argv[1] accepts a connection within 3 s.
define PG_CHECK_PY
import sys, psycopg
try:
    psycopg.connect(sys.argv[1], dbname='postgres', connect_timeout=3).close()
except Exception as e:
    print(e, file=sys.stderr)
    sys.exit(1)
endef
export PG_CHECK_PY

# Exit 0 when the server argv[1] has a database named argv[2].
define PG_HAS_DB_PY
import sys, psycopg
with psycopg.connect(sys.argv[1], dbname='postgres', connect_timeout=3) as c:
    found = c.execute('SELECT 1 FROM pg_database WHERE datname = %s', (sys.argv[2],)).fetchone()
sys.exit(0 if found else 1)
endef
export PG_HAS_DB_PY

# Drop the template databases of the tests (wtest-<key>-…) of another key than argv[2]
# on the server argv[1]: those of older sources. One in use is left.
define PG_DROP_STALE_PY
import sys, psycopg
from psycopg import sql
with psycopg.connect(sys.argv[1], dbname='postgres', connect_timeout=3, autocommit=True) as c:
    names = [n for n, in c.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE 'wtest-%'")
        if not n.startswith(f'wtest-{sys.argv[2]}-')]
    for name in names:
        try:
            c.execute(sql.SQL('DROP DATABASE {}').format(sql.Identifier(name)))
        except psycopg.Error:
            pass
endef
export PG_DROP_STALE_PY

# Drop the database argv[2] of the server argv[1] if it exists.
define PG_DROP_PY
import sys, psycopg
from psycopg import sql
with psycopg.connect(sys.argv[1], dbname='postgres', connect_timeout=3, autocommit=True) as c:
    c.execute(sql.SQL('DROP DATABASE IF EXISTS {}').format(sql.Identifier(sys.argv[2])))
endef
export PG_DROP_PY

# make test runs four parts on the machine's two cores, each timed in the summary:
#   - the database tests (unit tests and scenarios) on SQLite in memory, then the pure
#     tests (the rules and their properties, without a database: once, not per backend),
#     then the portal in a browser (make e2e);
#   - side by side, the database tests on PostgreSQL ($(TEST_PG_URI)).
# Each log is printed whole when all are done. The attachments the tests store (photos)
# go to the log folder, removed at the end, not to sites/.
TEST_RUN := $(PY) tools/run_tests.py
test: $(INSTALLED) system browser
	@logs=$$(mktemp -d); status=0; started=$$(date +%s); \
	part() { local name=$$1; shift; local begin=$$(date +%s); \
		"$$@" > $$logs/$$name.log 2>&1 || echo fail > $$logs/$$name.failed; \
		echo $$(( $$(date +%s) - begin )) > $$logs/$$name.time; }; \
	key=$$( { cat $(INSTALLED); \
		find -L $(MODULE) -type f \( -name '*.py' -o -name '*.xml' -o -name '*.cfg' \
			-o -name '*.po' \) -not -path '*/__pycache__/*' -not -path '*/tests/*' \
			-print0 | sort -z | xargs -0 sha1sum; } | sha1sum | cut -c1-12); \
	cache_sqlite=; cache_pg=; cache_e2e=; \
	if [ "$(TEST_CACHE)" = 1 ]; then \
		mkdir -p $(TEST_CACHE_ROOT); \
		find $(TEST_CACHE_ROOT) -mindepth 1 -maxdepth 1 ! -name "$$key" -exec rm -rf {} +; \
		cache_sqlite="$(abspath $(TEST_CACHE_ROOT))/$$key/sqlite"; \
		cache_e2e="$(abspath $(TEST_CACHE_ROOT))/$$key/e2e"; \
		cache_pg='$(patsubst %/,%,$(TEST_PG_URI))'; \
	fi; \
	pg=0; \
	if $(PY) -c "$$PG_CHECK_PY" '$(TEST_PG_URI)'; then \
		pg=1; \
		if [ -n "$$cache_pg" ]; then $(PY) -c "$$PG_DROP_STALE_PY" '$(TEST_PG_URI)' $$key || true; fi; \
	elif [ "$(REQUIRE_POSTGRESQL)" = 1 ]; then \
		echo "ERROR: PostgreSQL is not reachable at $(TEST_PG_URI) and REQUIRE_POSTGRESQL=1." >&2; \
		echo "       Start it (pg_ctlcluster --skip-systemctl-redirect <version> main start) or set TRYTOND_DATABASE__URI." >&2; \
		status=1; \
	else \
		echo "WARNING: PostgreSQL is not reachable at $(TEST_PG_URI): PostgreSQL tests SKIPPED."; \
		echo "         (set TRYTOND_DATABASE__URI to use another server; REQUIRE_POSTGRESQL=1 makes this an error)"; \
	fi; \
	echo "=== SQLite (in memory), the pure tests and the portal in a browser (e2e), and PostgreSQL ($(TEST_PG_URI)), side by side ==="; \
	sqlite_env="env -u TRYTOND_CONFIG TRYTOND_DATABASE_URI=sqlite:// TRYTOND_DATABASE__URI=sqlite:// \
		DB_NAME=:memory: DB_CACHE=$$cache_sqlite TRYTOND_DATABASE__PATH=$$logs/files"; \
	( part sqlite $$sqlite_env $(TEST_RUN) --kind db; \
		part pure $$sqlite_env $(TEST_RUN) --kind pure; \
		part e2e env E2E_CACHE=$$cache_e2e $(MAKE) --no-print-directory e2e ) & lane=$$!; \
	if [ $$pg = 1 ]; then \
		dbname=test_water_$$$$; \
		part postgresql env -u TRYTOND_CONFIG TRYTOND_DATABASE_URI='$(TEST_PG_URI)' \
			TRYTOND_DATABASE__URI='$(TEST_PG_URI)' DB_NAME=$$dbname DB_CACHE=$$cache_pg \
			DB_CACHE_KEY=$$key TRYTOND_DATABASE__PATH=$$logs/files $(TEST_RUN) --kind db; \
		$(PY) -c "$$PG_DROP_PY" '$(TEST_PG_URI)' $$dbname || true; \
	fi; \
	wait $$lane; \
	if ls $$logs/*.failed >/dev/null 2>&1; then status=1; fi; \
	parts=$$(for b in sqlite postgresql pure e2e; do \
		if [ -f $$logs/$$b.log ]; then echo $$logs/$$b.log; fi; done); \
	for log in $$parts; do echo; echo "=== $$(basename $$log .log) ==="; cat $$log; done; \
	echo; \
	echo "=== Summary ==="; \
	$(PY) -c "$$TEST_SUMMARY_PY" $$parts > $$logs/summary || status=1; \
	if grep -q '^0 passed' $$logs/summary || ! grep -q ' 0 failed' $$logs/summary; then status=1; fi; \
	cat $$logs/summary; \
	echo "make test took $$(( $$(date +%s) - started )) s"; \
	rm -rf $$logs; \
	exit $$status

# make test again with the clock of every process shifted by Debian's libfaketime to a
# year-end, a Friday evening, a Gaza midnight before UTC's and a year ahead (CLOCKS=…
# for some of them): a test must pass on any day at any hour. About a quarter of an hour
# each, with caches of their own; not part of make test.
CLOCKS ?=
test-clock: $(INSTALLED) system browser
	@if ! ldconfig -p 2>/dev/null | grep -q libfaketime \
			&& ! ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's faketime"; \
			$(call apt_install,faketime); \
		else \
			echo "ERROR: libfaketime is missing (sudo apt-get install faketime)" >&2; exit 1; \
		fi; \
	fi
	$(PY) tools/test_clock.py --make '$(MAKE)' $(CLOCKS)

# --- Benchmarks -----------------------------------------------------------------------------

bench: $(INSTALLED)
	$(PIP) install -q -r bench/requirements.txt
	@found=0; \
	for f in bench/*.py; do \
		[ -e "$$f" ] || continue; found=1; \
		echo "=== $$f ==="; \
		$(PY) "$$f"; \
	done; \
	if [ $$found = 0 ]; then echo "no benchmark in bench/"; fi

# --- Cleaning -------------------------------------------------------------------------------

clean:
	rm -f sites/*.sqlite sites/*.sqlite-journal sites/*.sqlite-wal sites/*.sqlite-shm \
		sites/logins.txt
	rm -rf build dist $(MODULE)/build $(MODULE)/dist .hypothesis
	find . \( -path ./.venv -o -path ./.web -o -path ./.git \) -prune -o \
		-type d \( -name __pycache__ -o -name '*.egg-info' \) -print0 | xargs -0 rm -rf

# Removes the virtualenv and the web client too. Only the symlink to the module is removed
# first, so that nothing can follow it into the sources.
distclean: clean
	@if [ -d $(VENV) ]; then \
		find $(VENV) -path '*/trytond/modules/$(MODULE_NAME)' -type l -print -delete; \
	fi
	rm -rf $(VENV) .web
