// The option sets admins use (issue 20's list), as client arguments. "H:" is the
// remote side, SRC a local directory; each set is recorded as a pull and a push.
export interface OptionSet {
  name: string;
  args: string[];
}

export const OPTION_SETS: readonly OptionSet[] = [
  { name: 'archive', args: ['-a'] },
  { name: 'hard links', args: ['-aH'] },
  { name: 'ACLs', args: ['-aA'] },
  { name: 'xattrs', args: ['-aX'] },
  { name: 'compress', args: ['-az'] },
  { name: 'verbose', args: ['-av'] },
  { name: 'human', args: ['-ah'] },
  { name: 'progress', args: ['-a', '--progress'] },
  { name: 'stats', args: ['-a', '--stats'] },
  { name: 'itemize', args: ['-ai'] },
  { name: 'dry run', args: ['-an'] },
  { name: 'one file system', args: ['-ax'] },
  { name: 'numeric ids', args: ['-a', '--numeric-ids'] },
  { name: 'delete', args: ['-a', '--delete'] },
  { name: 'delete-before', args: ['-a', '--delete-before'] },
  { name: 'delete-during', args: ['-a', '--delete-during'] },
  { name: 'delete-delay', args: ['-a', '--delete-delay'] },
  { name: 'delete-after', args: ['-a', '--delete-after'] },
  { name: 'delete-excluded', args: ['-a', '--delete', '--delete-excluded', '--exclude=*.tmp'] },
  { name: 'exclude and include', args: ['-a', '--include=*.c', '--exclude=*'] },
  { name: 'dirs', args: ['--dirs'] },
  { name: 'partial', args: ['-a', '--partial'] },
  { name: 'inplace', args: ['-a', '--inplace'] },
  { name: 'relative', args: ['-aR'] },
  { name: 'protocol 29', args: ['-a', '--protocol=29'] },
  { name: 'everyday', args: ['-avzh', '--progress'] },
  { name: 'the original setup', args: ['-avzx', '--numeric-ids', '--delete', '--progress'] },
];

export const PULL_PATHS = ['H:/data/', 'dst/'];
export const PUSH_PATHS = ['SRC/', 'H:/dst/'];
