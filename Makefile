# Lianqing: `make run` (develop / demo) and `make test`. Both create the virtualenv on first use.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1:8000

.PHONY: run test typecheck lint format install messages migrate seed worker beat clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Compiled translations are build output: made here from config/locale/*/django.po.
messages: $(STAMP)
	cd config && ../$(BIN)/django-admin compilemessages --ignore=.venv >/dev/null

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo --if-empty

run: messages seed
	$(BIN)/python manage.py runserver $(HOST)

# One pytest worker per core (pytest-xdist). Tests that must share a worker (a real Celery
# worker on the one Redis queue) carry @pytest.mark.xdist_group, honoured by --dist loadgroup.
# The 10 slowest tests are printed so that a slow newcomer is noticed.
# `make test TEST_WORKERS=0 PYTEST_ARGS="tests/cadres"` runs serially.
TEST_WORKERS ?= auto
test: messages
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup --durations=10 $(PYTEST_ARGS)

# mypy with django-stubs on the typed core; the checked files are listed in pyproject.toml.
typecheck: $(STAMP)
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A config beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles artifacts .pytest_cache .mypy_cache
