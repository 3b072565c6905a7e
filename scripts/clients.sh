#!/usr/bin/env bash
# Build the rsync clients people have on their laptops (test/fixtures/clients/, README.md there) into the ignored
# cache clients/<name>/bin/rsync, for the real-client tests (test/helpers/clients.ts names them):
#   openrsync-91.0.6, openrsync-146, openrsync-182  Apple's openrsync (macOS 15.0, 15.x, 26.x), protocol 29
#   apple-rsync-2.6.9                               Apple's rsync (macOS up to 14), protocol 29
#   rsync-3.0.9, rsync-3.1.3                        RHEL 6/7 and RHEL 8
#   rsync-3.2.7                                     Debian 12's package, unpacked with dpkg -x (never installed)
# The system's /usr/bin/rsync is the project's current client and is not built here.
#
# Idempotent and fast when cached: a client is rebuilt only when the sha256 of its source (and of this script, which
# holds the build recipe) differs from the stamp beside its binary. Builds run two at a time (2 CPUs).
# The patches below touch only the extracted copy, never the fixtures, and none changes what a client sends.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$root/test/fixtures/clients
cache=${GK_CLIENTS_DIR:-$root/clients}
mkdir -p "$cache"
recipe=$(sha256sum "$0" | cut -d' ' -f1)

stamp_of() { # source file(s) -> the stamp a finished build carries
  printf '%s %s\n' "$recipe" "$(cat "$@" | sha256sum | cut -d' ' -f1)"
}

fresh() { # name stamp -> 0 when the cached binary was built from the same source and answers --version
  [[ -x $cache/$1/bin/rsync && -f $cache/$1/stamp && "$(cat "$cache/$1/stamp")" == "$2" ]] &&
    "$cache/$1/bin/rsync" --version >/dev/null 2>&1
}

finish() { # name stamp built-binary: install into the cache, check --version, write the stamp last
  mkdir -p "$cache/$1/bin"
  install -m 0755 "$3" "$cache/$1/bin/rsync"
  "$cache/$1/bin/rsync" --version >"$cache/$1/version"
  printf '%s\n' "$2" >"$cache/$1/stamp"
  echo "clients.sh: $1: $(head -1 "$cache/$1/version")"
}

build_rsync() { # name tarball: rsync.samba.org's rsync (3.0.9, 3.1.3) and Apple's 2.6.9
  local name=$1 tar=$fixtures/$2 st src
  st=$(stamp_of "$tar")
  fresh "$name" "$st" && return 0
  src=$(mktemp -d "$cache/.build-$name.XXXXXX")
  tar xzf "$tar" -C "$src" --strip-components=1
  (
    cd "$src"
    if [[ $name == apple-rsync-2.6.9 ]]; then
      # BSD's fmtcheck(fmt, "%s") only vets a client-side log format; glibc lacks it: use the format itself.
      sed -i 's/fmtcheck(\([^,]*\), "[^"]*")/\1/g' log.c popt/popthelp.c
    else
      # The git tags carry configure.ac but no generated configure.sh / config.h.in.
      # 3.1.3 keeps its macros in m4/, which its prepare-source.mak gathers with aclocal (automake) into aclocal.m4;
      # concatenating them is the same for autoconf and needs no automake.
      if [[ -d m4 ]]; then cat m4/*.m4 >aclocal.m4; fi
      autoconf -o configure.sh 2>/dev/null
      autoheader 2>/dev/null
    fi
    extra=()
    [[ $name == rsync-3.1.3 ]] && extra=(--disable-xxhash --disable-zstd --disable-lz4 --disable-openssl)
    ./configure --with-included-popt --with-included-zlib --disable-iconv --disable-md2man "${extra[@]}" \
      CFLAGS='-O1 -w -fcommon' >configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
    make -j2 rsync >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
  )
  finish "$name" "$st" "$src/rsync"
  rm -rf "$src"
}

build_openrsync() { # name tarball: Apple's openrsync, built for Linux (see the README's list)
  local name=$1 tar=$fixtures/$2 st src
  st=$(stamp_of "$tar" "$fixtures"/openrsync-linux/*)
  fresh "$name" "$st" && return 0
  src=$(mktemp -d "$cache/.build-$name.XXXXXX")
  tar xzf "$tar" -C "$src" --strip-components=1
  cp "$fixtures"/openrsync-linux/* "$src/"
  chmod u+w "$src"/compat_*
  (
    cd "$src"
    ./configure >configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
    mkdir -p gk-inc/sys
    # Darwin's <sys/sbuf.h> and <libutil.h> (humanize_number) -> the BSD-licensed compat copies.
    echo '#include "compat_sbuf.h"' >gk-inc/sys/sbuf.h
    echo '#include "compat_humanize_number.h"' >gk-inc/libutil.h
    # What Darwin's headers give every file: STAILQ_*, MIN/MAX, __has_feature, SIZE_T_MAX, O_RESOLVE_BENEATH.
    cat >gk-inc/gk-linux.h <<'EOF'
#include <sys/queue.h>
#include <sys/param.h>
#include <stdint.h>
#ifndef __has_feature
#define __has_feature(x) 0
#endif
#define SIZE_T_MAX SIZE_MAX
#define O_RESOLVE_BENEATH 0
extern int optreset;
extern int syslog_trace;
EOF
    # BSD getopt's optreset (daemon side only); syslog_trace, which older main.c define only on Darwin
    # (a common symbol under -fcommon, so releases that do define it link too).
    printf 'int optreset;\nint syslog_trace;\n' >gk-linux.c
    # gcc 12 rejects an enum with a fixed underlying type written this way.
    sed -i 's/enum daemon_state : unsigned char/enum daemon_state/' daemon.h
    # BSD's sin_len/sin6_len (daemon listener only): drop the assignments, take the lengths from sizeof.
    sed -i -e 's/^\(\s*\)sin->sin_len = sizeof(\*sin);/\1;/' -e 's/curr->salen = sin->sin_len;/curr->salen = sizeof(*sin);/' \
      -e 's/^\(\s*\)sin6->sin6_len = sizeof(\*sin6);/\1;/' -e 's/curr->salen = sin6->sin6_len;/curr->salen = sizeof(*sin6);/' \
      socket.c
    # Apple's Makefile is older than its sources: compile every .c but tests.c, plus zlib, with a Makefile of ours.
    objs=$(ls ./*.c zlib/*.c | grep -v '^./tests.c$' | sed 's/\.c$/.o/' | tr '\n' ' ')
    cat >gk.mk <<EOF
CFLAGS = -D_GNU_SOURCE -O1 -w -fcommon -Igk-inc -I. -include gk-inc/gk-linux.h
openrsync: $objs
	\$(CC) -o \$@ $objs -lm -lresolv
EOF
    make -j2 -f gk.mk openrsync >make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
  )
  finish "$name" "$st" "$src/openrsync"
  rm -rf "$src"
}

fetch_debian() { # name version-glob: a Debian release of rsync, unpacked (dpkg -x) but never installed
  local name=$1 want=$2 deb st dir
  dir=$cache/.deb-$name
  mkdir -p "$dir"
  deb=$(ls "$dir"/rsync_"$want"*.deb 2>/dev/null | head -1 || true)
  if [[ -z $deb ]]; then
    local version
    version=$(apt-cache madison rsync | awk -v w="$want" '$3 ~ "^"w {print $3; exit}')
    [[ -n $version ]] || { echo "clients.sh: no rsync $want in the apt archive (apt-cache madison rsync)" >&2; return 1; }
    (cd "$dir" && apt-get download -q "rsync=$version" >/dev/null)
    deb=$(ls "$dir"/rsync_"$want"*.deb | head -1)
  fi
  st=$(stamp_of "$deb")
  fresh "$name" "$st" && return 0
  rm -rf "$dir/root"
  dpkg -x "$deb" "$dir/root"
  # Its libraries (libacl, libpopt, libxxhash, libzstd, liblz4, libssl) are the system's: ldd must find them all.
  if ldd "$dir/root/usr/bin/rsync" | grep -q 'not found'; then
    ldd "$dir/root/usr/bin/rsync" >&2
    return 1
  fi
  finish "$name" "$st" "$dir/root/usr/bin/rsync"
}

pids=()
# Each build runs in a background subshell: say which one failed, and leave no half-built folder behind.
run() {
  (
    trap 'echo "clients.sh: building $2 failed (its configure.log/make.log are printed above)" >&2; rm -rf "$cache"/.build-"$2".*' ERR
    "$@"
  ) &
  pids+=($!)
}
wait_all() { local p rc=0; for p in "${pids[@]}"; do wait "$p" || rc=1; done; pids=(); return $rc; }

status=0
# Two at a time; each build is itself make -j2, but most of a build is configure, which is serial.
run build_rsync rsync-3.1.3 rsync-3.1.3.tar.gz
run build_rsync rsync-3.0.9 rsync-3.0.9.tar.gz
wait_all || status=1
run build_rsync apple-rsync-2.6.9 apple-rsync-2.6.9.tar.gz
run build_openrsync openrsync-91.0.6 apple-openrsync-91.0.6.tar.gz
wait_all || status=1
run build_openrsync openrsync-146 apple-openrsync-146.tar.gz
run build_openrsync openrsync-182 apple-openrsync-182.tar.gz
run fetch_debian rsync-3.2.7 3.2.7
wait_all || status=1
exit $status
