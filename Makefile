# The front door. `make run` and `make test` are the two commands in the README.
.PHONY: run setup test worker lint format
VENV := .venv
PY := $(VENV)/bin/python

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

setup: $(PY)
	$(PY) -m pip install -q "torch==$${TORCH_VERSION:-2.13.0}"
	$(PY) -m pip install -q -e .

# The embedded default: SQLite, jobs on a background thread. Open http://127.0.0.1:8000/
run: setup
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py demo
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver 127.0.0.1:8000

# Exactly what CI runs: services, Chromium, a fresh install, then every test.
test:
	bash .ci/run

# With REDIS_URL set: one worker serving every queue (start as many as you like, anywhere).
worker: setup
	$(PY) manage.py rqworker ingest gpu cpu default

lint: setup
	$(VENV)/bin/ruff check .
format:
	$(VENV)/bin/ruff format .
