// Lines real clients send (recorded with test/helpers/clients.ts's recording -e; test/clients/family-lines.test.ts
// records them again from the clients themselves), with the family the grammar must tell from each: the shapes that
// decide clientFamily (a clustered word, separate letters, -B's and -@'s numbers, a lone letter).
export interface FamilyLine {
  client: string;
  /** The client's own arguments ("H:" the remote host, SRC a local directory). */
  args: string[];
  line: string;
  family: 'rsync' | 'openrsync' | undefined;
}

export const FAMILY_LINES: readonly FamilyLine[] = [
  // Clustered: rsync.
  { client: 'rsync-3.2.7', args: ['-rl', 'H:/data/', 'DST'], line: 'rsync --server --sender -lre.iLsfxCIvu . /data/', family: 'rsync' },
  { client: 'rsync-3.2.7', args: ['-rl', '-B2048', 'H:/data/', 'DST'], line: 'rsync --server --sender -lre.iLsfxCIvu -B2048 . /data/', family: 'rsync' },
  { client: 'apple-rsync-2.6.9', args: ['-rl', 'H:/data/', 'DST'], line: 'rsync --server --sender -lr . /data/', family: 'rsync' },
  // rsync's -@N (a negative modify window) is a word of its own, sent by rsync alone: beside a lone -r it still says rsync.
  { client: 'rsync-3.2.7', args: ['-r', '--protocol=29', '--modify-window=-1', 'SRC/', 'H:/dst/'], line: 'rsync --server -r -@-1 . /dst/', family: 'rsync' },
  // Separate letters: openrsync, also with its block size word (-B2048) beside them, and for a module.
  { client: 'openrsync-182', args: ['-rl', 'H:/data/', 'DST'], line: 'rsync --server --sender -l -r --dirs . /data/', family: 'openrsync' },
  { client: 'openrsync-182', args: ['-rl', '-B2048', 'H:/data/', 'DST'], line: 'rsync --server --sender -l -r --dirs -B2048 . /data/', family: 'openrsync' },
  { client: 'openrsync-182', args: ['-rl', '-B2048', '--modify-window=1', 'H::mod/', 'DST'], line: 'rsync --server --sender -l -r --dirs --modify-window=1 -B2048 . mod/', family: 'openrsync' },
  { client: 'openrsync-91.0.6', args: ['-rl', 'H::mod/', 'DST'], line: 'rsync --server --sender -l -r . mod/', family: 'openrsync' },
  // One lone letter shows neither, with -B beside it or not.
  { client: 'openrsync-182', args: ['-r', '-B2048', 'H:/data/', 'DST'], line: 'rsync --server --sender -r --dirs -B2048 . /data/', family: undefined },
  { client: 'openrsync-91.0.6', args: ['-r', '-B2048', 'SRC/', 'H::mod/'], line: 'rsync --server -r -B2048 . mod/', family: undefined },
  { client: 'rsync-3.2.7', args: ['-r', '--protocol=29', '-B2048', 'H:/data/', 'DST'], line: 'rsync --server --sender -r -B2048 . /data/', family: undefined },
  { client: 'apple-rsync-2.6.9', args: ['-r', 'H:/data/', 'DST'], line: 'rsync --server --sender -r . /data/', family: undefined },
];
