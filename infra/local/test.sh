#!/usr/bin/env bash
# `npm test`: type-check, lint, bring up the local stack (cached), then every test with node's runner.
# Arguments are passed to `node --test` (e.g. a file or --test-name-pattern).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

echo "== type-check"
tsc -p tsconfig.json
echo "== lint"
eslint --max-warnings=0 .
prettier --check --log-level=warn .
echo "== local stack"
node infra/local/stack/cli.ts up
eval "$(node infra/local/stack/cli.ts env)"

echo "== tests"
if (( $# == 0 )); then
  set -- 'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts'
fi
exec node --test --test-reporter=spec --test-concurrency=2 --test-timeout=600000 "$@"
