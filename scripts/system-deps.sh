#!/usr/bin/env bash
# The machine packages gatekeeper's demo and tests use for real: OpenSSH's
# sshd and ssh, and rsync. Installs what is missing with apt-get when run as
# root on Debian/Ubuntu; otherwise says exactly what to install.
set -euo pipefail
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
[ -x /usr/bin/ssh ] && [ -x /usr/bin/ssh-keygen ] || missing+=(openssh-client)
[ -x /usr/bin/rsync ] || missing+=(rsync)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "gatekeeper: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the package from starting the system's sshd; tests start their own.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "gatekeeper: missing ${missing[*]}: install them as root, e.g. apt-get install -y ${missing[*]}" >&2
exit 1
