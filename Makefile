# The two commands of the README; each sets itself up first.
.PHONY: demo test lint format

demo:  ## set up, migrate, seed the demo and serve it at http://127.0.0.1:8000 (or HOST, PORT)
	scripts/demo

test:  ## set up and run the whole suite on PostgreSQL and Redis
	scripts/test

lint:  ## ruff, then mypy over the whole tree
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

format:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .
