# The two-command quickstart: `make plan` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: plan check validate test lint schemas i18n clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

## pip compiles what it installs, but an editable install leaves reconciler/ as source: compiled here,
## every run reads bytecode even where Python may not write it (PYTHONDONTWRITEBYTECODE, a read-only
## checkout), 0.1 s of each `validate`. A file changed later is compiled again by the run that imports it.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q reconciler
	touch $(STAMP)

## Validate the example org/ and print its plan against the embedded local provider.
plan: $(STAMP)
	$(BIN)/reconciler validate
	$(BIN)/reconciler plan

## For the admin of a company's repository: validate org/ and plan it against the provider
## org.yaml names (nothing is changed). `make test` is for the project's developers.
check: $(STAMP)
	$(BIN)/reconciler validate
	$(BIN)/reconciler plan

validate: $(STAMP)
	$(BIN)/reconciler validate

## The test suite (what CI runs). worksteal: a worker that runs out of tests takes some of the other's
## queue, so none idles at the end behind a few slow cells (crash, doctor, workflows). One worker more
## than the CPUs: many tests wait on a subprocess, a socket or a client's timeout, and the extra worker
## runs in those waits (2 CPUs: 5:08 with 2 workers, 4:38 with 3).
TEST_WORKERS ?= $(shell $(BIN)/python -c 'import os; print((os.cpu_count() or 1) + 1)')
test: $(STAMP)
	$(BIN)/ruff check reconciler tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

## Regenerate schemas/*.schema.json from the models.
schemas: $(STAMP)
	$(BIN)/reconciler schemas --write schemas

## Extract the messages to translate into reconciler/locale/reconciler.pot, merge them into each
## language's .po (translate what is new there), and compile the .mo files a run reads.
LOCALES := reconciler/locale
i18n: $(STAMP)
	$(BIN)/pybabel --quiet extract -F babel.cfg -k N_ -k T_ --add-location=file --sort-output --no-wrap \
	    --project=reconciler --copyright-holder="reconciler authors" -o $(LOCALES)/reconciler.pot .
	$(BIN)/pybabel --quiet update -D reconciler -i $(LOCALES)/reconciler.pot -d $(LOCALES) --no-wrap --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel --quiet compile -D reconciler -d $(LOCALES) --statistics

clean:
	rm -rf $(VENV) .reconciler
