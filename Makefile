# Gallery — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# `make up PROFILE=several`: two replicas on SeaweedFS behind nginx (see docker/docker-compose.yml).
PROFILE ?= single
COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

.PHONY: help run test lint web-fmt screenshots fmt migrate up down bench build release clean-data client-check fuzz

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## Run the server (a private PostgreSQL under .data/ when DATABASE_URL is unset)
	@scripts/run.sh

test: ## Run every test against a throwaway PostgreSQL
	@scripts/test.sh

lint: ## cargo fmt --check, clippy -D warnings, the web app's type checks (tsc --checkJs) and formatting, and docker/ (compose config, pinned images)
	@scripts/need.sh build
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	@scripts/web-lint.sh
	@scripts/compose-check.sh

web-fmt: ## Format the web app's JavaScript and CSS (Prettier)
	@scripts/web-tools.sh
	crates/web/node_modules/.bin/prettier --write --log-level warn crates/web/app

screenshots: ## Run the browser tests and refresh the README's screenshots (docs/screenshots)
	@SCREENSHOTS=docs/screenshots scripts/browser-test.sh

fmt: ## Format the code
	cargo fmt --all

migrate: ## Apply migrations to DATABASE_URL (or the private cluster)
	@scripts/run.sh migrate

build: ## Debug build of the workspace
	@scripts/need.sh build
	cargo build --workspace

release: ## Release build of the `gallery` binary
	@scripts/need.sh build
	cargo build --release -p gallery-server

up: ## Run the app and PostgreSQL 16 with docker compose (production settings); PROFILE=several: two replicas, SeaweedFS and nginx
	@touch docker/.env
	@grep -q '^GALLERY_JWT_SECRET=' docker/.env || { echo "GALLERY_JWT_SECRET=$$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >> docker/.env; echo "docker/.env: wrote a random JWT secret"; }
	@grep -q '^GALLERY_S3_SECRET_KEY=' docker/.env || { echo "GALLERY_S3_SECRET_KEY=$$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')" >> docker/.env; echo "docker/.env: wrote a random key for the several profile's object store"; }
	@grep -q '^GALLERY_PUBLIC_URL=' docker/.env || { echo "GALLERY_PUBLIC_URL=http://localhost:$${GALLERY_PORT:-8080}" >> docker/.env; echo "docker/.env: GALLERY_PUBLIC_URL=http://localhost:$${GALLERY_PORT:-8080} (set it to the address people use)"; }
	$(COMPOSE) -f docker/docker-compose.yml --env-file docker/.env --profile $(PROFILE) up --build -d

down: ## Stop the docker compose stack
	$(COMPOSE) -f docker/docker-compose.yml --env-file docker/.env --profile single --profile several down

client-check: ## Generate a Python client from our spec (openapi-python-client) and run a scenario with it
	@scripts/client-check.sh

fuzz: ## Contract fuzzing with schemathesis against a live server (bounded; part of .ci/run)
	@scripts/fuzz.sh

bench: ## Benchmarks: /users/me vs pgbench -S and a cached thumbnail vs nginx; uploads, RSS, GET /images; listing at 10k and 1M images; thumbnails vs Pillow; decompression bombs at once, with and without the decode memory budget; RSS over 10 M requests nobody scrapes; the cache listener frozen and starved; a trickle attack on upload turns; traces off and on; mixed load and a DB restart; share links and located uploads vs the pre-#11 build; uploads, login, lists and cached reads vs the pre-#13 build; s3 vs fs, upload RSS, revocation across two servers, rate limits in PostgreSQL; the web app's bytes and time to 100 thumbnails in chromium; /users/me, cached thumbnails and uploads vs the pre-#23 build
	@scripts/bench.sh
	@scripts/bench-images.sh
	@scripts/bench-listing.sh
	@scripts/bench-thumbnails.sh
	@scripts/bench-bombs.sh
	@scripts/bench-soak.sh
	@scripts/bench-listener.sh
	@scripts/bench-trickle.sh
	@scripts/bench-traces.sh
	@scripts/bench-load.sh
	@scripts/bench-hardening.sh
	@scripts/bench-scale.sh
	@scripts/bench-storage.sh
	@scripts/bench-ratelimit.sh
	@scripts/bench-web.sh
	@scripts/bench-house.sh

clean-data: ## Stop and delete the private development cluster and images
	@source scripts/pg.sh && dir=$$(cat .data/postgres.dir 2>/dev/null || echo .data/postgres) && pg_stop "$$dir" && rm -rf "$$dir" .data
