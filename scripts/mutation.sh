#!/usr/bin/env bash
# `npm run mutation [-- stryker options]`: StrykerJS from mutation/ (its own
# package and lock file, like runtimes/), installed on first use and again
# when the lock file changes; then run from the repository root with
# stryker.config.mjs. Under npm run, `node` is the project's Node 24.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/mutation"
if ! [ -x node_modules/.bin/stryker ] || ! cmp -s package-lock.json node_modules/.installed-from-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json node_modules/.installed-from-lock
fi
cd "$root"
exec "$root/mutation/node_modules/.bin/stryker" run "$@"
