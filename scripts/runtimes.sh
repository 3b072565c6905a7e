#!/usr/bin/env bash
# The Node runtimes besides the Node 24 that `npm ci` brings for development,
# from the npm registry (runtimes/package.json and its lock file):
#   runtimes/node_modules/node20-linux-x64/bin/node   Node 20: no process.execve,
#       so the gate takes its spawn fallback (tests of that path);
#   runtimes/node_modules/node24-linux-arm64/bin/node the runtime embedded in
#       the linux-arm64 executable (npm run package), run under qemu in tests.
# They sit in a package of their own so that neither becomes `node` on the
# PATH of npm scripts. --force: npm would refuse the arm64 package on x64.
set -euo pipefail
cd "$(dirname "$0")/../runtimes"
if [ -x node_modules/node20-linux-x64/bin/node ] && [ -f node_modules/node24-linux-arm64/bin/node ] \
  && cmp -s package-lock.json node_modules/.installed-from-lock 2>/dev/null; then
  exit 0
fi
npm ci --force --no-audit --no-fund --loglevel=error >/dev/null
cp package-lock.json node_modules/.installed-from-lock
