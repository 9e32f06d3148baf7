# Shopbee: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The same suite, against the machine's PostgreSQL and Redis.
SERVICES_ENV := DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shopbee} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} CELERY_TASK_ALWAYS_EAGER=true

.PHONY: install run test test-services lint format worker beat browser-deps mail-deps bench

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# A local run: DEBUG on (off by default), so the local-only secret key and plain HTTP. The server, a Celery
# worker and beat (Procfile) start and stop together under honcho, on Kombu's file-system broker (.celery/).
run: export DEBUG ?= true
run: export CELERY_BROKER_URL ?= filesystem://
run: install
	$(BIN)/python manage.py migrate --noinput --verbosity 0
	$(BIN)/python manage.py load_demo --site http://$(HOST):$(PORT)
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	HOST=$(HOST) $(BIN)/honcho start --port $(PORT) --procfile Procfile

test: install
	$(BIN)/pytest

test-services: install
	$(SERVICES_ENV) $(BIN)/pytest

# Style, then the import rules: layered apps (import-linter, see pyproject.toml) and no import cycles,
# then the types (mypy with django-stubs; strict on the typed contracts, see [tool.mypy] in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python tools/check_cycles.py
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: install
	$(BIN)/celery -A config worker --loglevel=info

beat: install
	$(BIN)/celery -A config beat --loglevel=info

# The browser tests drive Debian's chromium package (never a downloaded browser); its CJK fonts draw the Chinese
# pages in screenshots.
browser-deps:
	test -x /usr/bin/chromium && test -d /usr/share/fonts/opentype/noto || (apt-get update && apt-get install -y chromium fonts-noto-cjk)

# The email channel's tests read a real mailbox: Debian's dovecot, started by the tests in the foreground with a
# temporary configuration (tests/mail_servers.py); the package's own service is not used.
mail-deps:
	test -x /usr/sbin/dovecot || (apt-get update && apt-get install -y dovecot-imapd)

# Every benchmark with its floor and one table of ratios (tools/bench.sh; sizes and PostgreSQL there).
# bm25s, the answer benchmark's floor, is a benchmark-only dependency: requirements-bench.txt.
bench: install
	$(BIN)/pip install --quiet -r requirements-bench.txt
	QA_MESSAGES=$(QA_MESSAGES) CARDS=$(CARDS) QUESTIONS=$(QUESTIONS) CUSTOMERS=$(CUSTOMERS) \
		CLIENTS=$(CLIENTS) MESSAGES=$(MESSAGES) bash tools/bench.sh
