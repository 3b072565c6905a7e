#!/usr/bin/env bash
# The backup tools people already point at a server, for test/e2e/backup-tools.test.ts: Debian's rsnapshot and
# dirvish (perl scripts) and the two perl libraries dirvish needs (Time::ParseDate, Time::Period), fetched with
# apt-get download and unpacked with dpkg -x into the ignored cache backup-tools/ (never installed: nothing outside
# the cache is touched, no /etc/rsnapshot.conf, no /etc/dirvish). Run them with PERL5LIB=backup-tools/root/usr/share/perl5.
#
# One change to the unpacked copy, none to what either tool sends: dirvish reads its master.conf from a $CONFDIR
# fixed at /etc/dirvish; bin/dirvish is that script with $CONFDIR taken from DIRVISH_CONFDIR (the test's scratch
# directory), so the test needs no file under /etc.
#
# Idempotent and fast when cached: unpacked again only when the .debs (or this script) differ from the stamp.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${GK_BACKUP_TOOLS_DIR:-$root/backup-tools}
packages=(rsnapshot dirvish libtime-parsedate-perl libtime-period-perl)
mkdir -p "$cache/debs"

for p in "${packages[@]}"; do
  if ! ls "$cache/debs/${p}"_*.deb >/dev/null 2>&1; then
    # apt's _apt user cannot write the cache: download into a directory it may use, then move the file in.
    tmp=$(mktemp -d)
    chmod 0755 "$tmp"
    (cd "$tmp" && apt-get download -q "$p" >/dev/null 2>&1) || {
      rm -rf "$tmp"
      echo "backup-tools.sh: apt-get download $p failed (is the Debian archive reachable? apt-get update)" >&2
      exit 1
    }
    mv "$tmp"/"${p}"_*.deb "$cache/debs/"
    rm -rf "$tmp"
  fi
done

stamp="$(sha256sum "$0" | cut -d' ' -f1) $(cat "$cache"/debs/*.deb | sha256sum | cut -d' ' -f1)"
if [[ -f $cache/stamp && "$(cat "$cache/stamp")" == "$stamp" && -x $cache/bin/dirvish && -x $cache/root/usr/bin/rsnapshot ]]; then
  exit 0
fi

rm -rf "$cache/root" "$cache/bin" "$cache/stamp"
for d in "$cache"/debs/*.deb; do dpkg -x "$d" "$cache/root"; done
mkdir -p "$cache/bin"
sed 's|^\$CONFDIR = "/etc/dirvish";$|$CONFDIR = $ENV{DIRVISH_CONFDIR} // "/etc/dirvish";|' "$cache/root/usr/sbin/dirvish" >"$cache/bin/dirvish"
grep -q 'ENV{DIRVISH_CONFDIR}' "$cache/bin/dirvish" || { echo 'backup-tools.sh: dirvish has no $CONFDIR line to patch' >&2; exit 1; }
chmod 0755 "$cache/bin/dirvish"
PERL5LIB=$cache/root/usr/share/perl5 perl -c "$cache/bin/dirvish" >/dev/null 2>&1 || { echo 'backup-tools.sh: perl -c bin/dirvish fails' >&2; exit 1; }
perl -c "$cache/root/usr/bin/rsnapshot" >/dev/null 2>&1 || { echo 'backup-tools.sh: perl -c rsnapshot fails' >&2; exit 1; }
printf '%s\n' "$stamp" >"$cache/stamp"
for d in "$cache"/debs/*.deb; do echo "backup-tools.sh: $(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version)"; done
