// What the .deb and the .rpm install, as data: one list both formats are
// built from (scripts/lib/package-formats.mjs). Like node_exporter's or gh's
// packages: the binary in /usr/bin, shared data under /usr/share/gatekeeper,
// docs and licence where each format expects them. Nothing under /etc: the
// admin's policies (/etc/gatekeeper), the logs and the gate's cache are made
// by `gatekeeper install` and the gate, and removing the package keeps them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const PACKAGE = {
  name: 'gatekeeper',
  summary: 'forced-command gatekeeper for rsync backups over SSH',
  description: [
    'gatekeeper is the remote-side forced command for rsync backups over SSH.',
    'A backup key in authorized_keys runs "gatekeeper gate --policy NAME"',
    'instead of a shell: it vets the rsync server command the client asked',
    'for against a policy, logs the decision as one JSON line, rewrites the',
    'rsync path and execs rsync. Anything else is refused with a reason.',
    '',
    'The executable carries its own Node.js runtime. Installing the package',
    'changes no SSH configuration: "gatekeeper install --policy NAME --key FILE"',
    'wires a key, and "gatekeeper uninstall --all" undoes it.',
  ],
  license: 'MIT',
  maintainer: 'The gatekeeper authors <gatekeeper@example.org>',
  section: 'admin',
  /** What gatekeeper runs: rsync, under sshd. */
  depends: ['rsync', 'openssh-server'],
  /**
   * The .deb's C library needs (the .rpm gets them from the ELF header):
   * the executable's highest symbol versions are GLIBC_2.28 (checked by
   * test/package/deb.test.ts against the file, and doctor's GLIBC_NEEDED)
   * and GLIBCXX_3.4.21 (GCC 5). libgcc1 is libgcc-s1's name before Debian 11.
   */
  debLibraryDepends: ['libc6 (>= 2.28)', 'libgcc-s1 | libgcc1', 'libstdc++6 (>= 5)'],
};

/** The executable's path in both packages (src/install/assets.ts: PACKAGED_BINARY). */
export const BINARY = '/usr/bin/gatekeeper';
export const SHARE = '/usr/share/gatekeeper';
export const DOC = '/usr/share/doc/gatekeeper';

/**
 * Shell completion, generated from the commander tree by `gatekeeper
 * completion SHELL` into dist/completion/ (scripts/package.mjs) and installed
 * where each shell looks: bash-completion's completions directory (both
 * formats), zsh's vendor-completions on Debian (the zsh package's own
 * directory for other packages: lintian wants nothing in site-functions) and
 * site-functions on Fedora, fish's vendor_completions.d (both). `only`: one format's file.
 * @type {{ shell: 'bash' | 'zsh' | 'fish', file: string, path: string, only?: 'deb' | 'rpm' }[]}
 */
export const COMPLETIONS = [
  { shell: 'bash', file: 'gatekeeper', path: '/usr/share/bash-completion/completions/gatekeeper' },
  { shell: 'zsh', file: '_gatekeeper', path: '/usr/share/zsh/vendor-completions/_gatekeeper', only: 'deb' },
  { shell: 'zsh', file: '_gatekeeper', path: '/usr/share/zsh/site-functions/_gatekeeper', only: 'rpm' },
  { shell: 'fish', file: 'gatekeeper.fish', path: '/usr/share/fish/vendor_completions.d/gatekeeper.fish' },
];

/**
 * Every file both packages install. kind: 'file' (as is), 'man' (gzipped),
 * 'doc' (rpm %doc), 'license' (the licence text: Debian's copyright file,
 * rpm's %license). only: the file goes into that format's package alone.
 * Debian's changelog.gz and the rpm's %changelog are made from PACKAGE and
 * the version by the formats.
 * @returns {{ path: string | null, from: string, mode: number, kind: 'file' | 'man' | 'doc' | 'license', only?: 'deb' | 'rpm' }[]}
 */
export function packageFiles(root, executable) {
  const policies = readdirSync(join(root, 'policies')).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();
  return [
    { path: BINARY, from: executable, mode: 0o755, kind: 'file' },
    ...policies.map((p) => ({ path: `${SHARE}/policies/${p}`, from: join(root, 'policies', p), mode: 0o644, kind: 'file' })),
    { path: `${SHARE}/rsyncd.conf`, from: join(root, 'install', 'rsyncd.conf'), mode: 0o644, kind: 'file' },
    ...COMPLETIONS.map((c) => ({ path: c.path, from: join(root, 'dist', 'completion', c.file), mode: 0o644, kind: 'file', ...(c.only ? { only: c.only } : {}) })),
    { path: '/usr/share/man/man8/gatekeeper.8.gz', from: join(root, 'man', 'gatekeeper.8'), mode: 0o644, kind: 'man' },
    { path: `${DOC}/README.md`, from: join(root, 'README.md'), mode: 0o644, kind: 'doc' },
    { path: `${DOC}/SECURITY.md`, from: join(root, 'SECURITY.md'), mode: 0o644, kind: 'doc' },
    { path: null, from: join(root, 'LICENSE'), mode: 0o644, kind: 'license' },
  ];
}

/**
 * The removal check, the same for the .deb's prerm and the .rpm's %preun:
 * while a forced command still runs the packaged binary, removing it would
 * leave sshd running a command that is gone; refuse and say what to run.
 * It only asks the binary (doctor --in-use reads authorized_keys files and
 * install's manifest, and changes nothing). When the binary cannot answer
 * at all, removal goes on with a warning: a package that cannot be removed
 * helps nobody, and a forced command whose binary is gone fails closed.
 */
export function removalCheck() {
  return [
    `if ${BINARY} doctor --in-use ${BINARY} >&2; then`,
    '  :',
    'else',
    '  rc=$?',
    '  if [ "$rc" -eq 77 ]; then',
    `    echo "gatekeeper: the forced commands above still run ${BINARY}: run 'gatekeeper uninstall --all' first (it restores sshd_config and authorized_keys), then remove the package" >&2`,
    '    exit 1',
    '  fi',
    `  echo "gatekeeper: warning: ${BINARY} could not check for forced commands that run it (exit $rc)" >&2`,
    'fi',
  ];
}
