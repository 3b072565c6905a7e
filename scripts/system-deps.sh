#!/usr/bin/env bash
# The machine packages gatekeeper's demo and tests use for real, from
# Debian's archive: one line per program a test runs, with the package that
# brings it. Installs what is missing with apt-get when run as root on
# Debian/Ubuntu; otherwise says exactly what to install. A test never skips
# because one of these is missing: it fails (see .ci/run).
set -euo pipefail
# program                            package
needs=(
  /usr/sbin/sshd                     openssh-server
  /usr/bin/ssh                       openssh-client
  /usr/bin/ssh-keygen                openssh-client
  /usr/bin/rsync                     rsync
  /usr/bin/rrsync                    rsync              # the yardstick: decide/real-clients.test.ts compares with it
  /bin/bash                          bash               # the tokenizer differential (root's login shell)
  /usr/bin/python3                   python3            # rrsync comparisons, syslog tests
  /usr/bin/logger                    bsdutils           # syslog tests
  /usr/bin/script                    bsdutils           # audit's colour on a terminal
  /usr/bin/patch                     patch
  /usr/sbin/setcap                   libcap2-bin        # a file capability pushed with -X (test/e2e/push-setuid)
  /usr/sbin/getcap                   libcap2-bin
  /usr/bin/unshare                   util-linux         # private mount and UTS namespaces
  /usr/bin/nsenter                   util-linux         # enters the node-less namespace (test/package)
  /usr/bin/mount                     mount              # masks node inside that namespace
  /usr/bin/dpkg-deb                  dpkg
  /usr/bin/rpmbuild                  rpm
  /usr/bin/lintian                   lintian
  /usr/bin/fakeroot                  fakeroot
  /usr/bin/qemu-aarch64-static       qemu-user-static   # the arm64 executable
  /usr/bin/strip                     binutils           # strips the executables (npm run package)
  /usr/bin/aarch64-linux-gnu-strip   binutils-aarch64-linux-gnu
  /usr/bin/prometheus-node-exporter  prometheus-node-exporter
  /usr/bin/promtool                  prometheus
  /usr/bin/systemd-analyze           systemd            # verifies the metrics timer units
  /usr/sbin/rsyslogd                 rsyslog
  /usr/sbin/logrotate                logrotate          # rotates the log with install's snippet (test/install/logrotate)
  /usr/bin/ansible-playbook          ansible-core
  /usr/bin/ansible-lint              ansible-lint
  /usr/bin/chromium                  chromium           # renders audit --html headless (test/audit/html)
  /usr/bin/gcc                       gcc                # builds the real rsync and openrsync clients (scripts/clients.sh)
  /usr/bin/make                      make
  /usr/bin/autoconf                  autoconf
  /usr/bin/autoheader                autoconf
  /usr/bin/zsh                       zsh                # the zsh completion, tried in a real zsh
  /usr/bin/fish                      fish               # the fish completion, tried with fish's own complete -C
  /usr/share/bash-completion/bash_completion bash-completion # the bash completion, loaded as bash-completion does
  /usr/bin/jq                        jq                 # the baseline of npm run bench:audit
  /usr/bin/tidy                      tidy               # validates audit --html's page (test/audit/html)
  /usr/bin/cpan                      perl               # perl-modules (Getopt::Std, File::stat): rsnapshot and dirvish (scripts/backup-tools.sh)
)
missing=()
for ((i = 0; i < ${#needs[@]}; i += 2)); do
  [ -e "${needs[i]}" ] || missing+=("${needs[i + 1]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "gatekeeper: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Tests start their own sshd, rsyslogd and node_exporter on 127.0.0.1; a
  # policy-rc.d that forbids starting services keeps the packages' own from
  # running while they install (removed again afterwards if we made it).
  made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
  exit 0
fi
echo "gatekeeper: missing ${missing[*]}: install them as root, e.g. apt-get install -y ${missing[*]}" >&2
exit 1
