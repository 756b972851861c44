# The recipes CI runs (`.ci/run` calls `just test`), nothing more.

export TEST_DATABASE_URL := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")

# Everything CI checks: format, lints, the domain's dependency invariant, all tests.
test: fmt lint deps test-all conformance

fmt:
    cargo fmt --all --check

lint:
    cargo clippy --workspace --all-targets -- -D warnings

# Architecture Invariant 1: the domain has no I/O crates in its normal dependency tree.
deps:
    if cargo tree -p koppeling-domain -e normal --prefix none | grep -E '^(tokio|sea-orm|sqlx|reqwest|hyper|axum|lettre|figment) '; then echo "koppeling-domain must not depend on I/O crates" >&2; exit 1; fi

# Builds the binaries the process-level tests start, then runs every test.
test-all:
    cargo build -p koppeling -p snelstart-sandbox
    cargo test --workspace

# The API against its own OpenAPI document: schemathesis with all checks against a started
# koppeling (issue 14); the binaries come from `test-all`'s build.
conformance:
    cargo build -p koppeling -p snelstart-sandbox
    bash tests/conformance/run.sh

# The demo on the embedded default (SQLite, in-process SnelStart sandbox).
demo:
    cargo run -p koppeling -- demo
