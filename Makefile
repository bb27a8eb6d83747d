# pb: the two commands a newcomer needs are `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
DEMO_DB := $(CURDIR)/instance/demo.sqlite3
DEMO_ENV := PB_ENV=development PB_DATABASE_URL=sqlite:///$(DEMO_DB)

.PHONY: install translations demo test lint i18n bench bench-pages

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,prod,audit]'
	touch $@

install: $(BIN)/.installed

translations: install
	$(BIN)/pybabel compile --directory translations --domain messages

demo: translations
	mkdir -p instance
	$(DEMO_ENV) $(BIN)/pb db upgrade
	test -f instance/record_signing_key.pem || $(DEMO_ENV) $(BIN)/pb keys generate --out instance
	$(DEMO_ENV) $(BIN)/pb demo
	@echo "Serving on http://127.0.0.1:5000 (Ctrl+C stops it)"
	$(DEMO_ENV) $(BIN)/pb run --host 127.0.0.1 --port 5000

test: translations
	$(BIN)/ruff check pb tests benchmarks migrations
	$(BIN)/pytest --numprocesses auto

lint: install
	$(BIN)/ruff check pb tests benchmarks migrations

# Extract every marked string and merge it into the French catalogue (translate, then `make test`).
i18n: install
	$(BIN)/pybabel extract --mapping-file babel.cfg --ignore-dirs ".* __pycache__" --no-location --sort-output --project pb --keywords _l \
		--msgid-bugs-address "" --copyright-holder "pb contributors" --output-file translations/messages.pot .
	$(BIN)/pybabel update --input-file translations/messages.pot --output-dir translations --locale fr_CA \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --directory translations --domain messages

bench: install
	$(BIN)/python benchmarks/tally.py

# Public pages under load (gunicorn, PostgreSQL, Redis, wrk) as a share of a bare Flask app; see benchmarks/README.md.
bench-pages: translations
	$(BIN)/python benchmarks/pages.py $(ARGS)
