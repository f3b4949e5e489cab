#!/usr/bin/env bash
# Entry point behind every `npm run …` script: makes sure the toolchain is installed (setup.sh,
# idempotent and cached), then runs the task under Node 24.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# shellcheck source=setup.sh
source infra/local/setup.sh

task="${1:-}"; shift || true
case "$task" in
  test)      exec bash infra/local/test.sh "$@" ;;
  lint)      eslint --max-warnings=0 . && exec prettier --check --log-level=warn . ;;
  typecheck) exec tsc -p tsconfig.json ;;
  format)    exec prettier --write . ;;
  stack)     exec node infra/local/stack/cli.ts "$@" ;;
  worker)    node infra/local/stack/cli.ts up >&2; eval "$(node infra/local/stack/cli.ts env)"; exec node worker/main.ts "$@" ;;
  demo)      exec node infra/local/demo/main.ts "$@" ;;
  bench)     node infra/local/stack/cli.ts up >&2; eval "$(node infra/local/stack/cli.ts env)"
             # `npm run bench -- NAME …` runs bench/NAME-bench.ts; with no name, the release bench.
             if [[ -n "${1:-}" && "${1:-}" != -* ]]; then
               name="$1"; shift
               [[ -f "bench/$name-bench.ts" ]] || { echo "no bench named $name (bench/*-bench.ts)" >&2; exit 2; }
               exec node "bench/$name-bench.ts" "$@"
             fi
             exec node bench/release-bench.ts "$@" ;;
  api)       node infra/local/stack/cli.ts up >&2; eval "$(node infra/local/stack/cli.ts env)"; exec node api/server.ts "$@" ;;
  slipway)   exec node cli/main.ts "$@" ;;
  node)      exec node "$@" ;;
  *) echo "usage: run.sh test|lint|typecheck|format|stack|worker|demo|bench|api|slipway|node [args]" >&2; exit 2 ;;
esac
