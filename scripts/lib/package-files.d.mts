// Types for package-files.mjs (the one file list of the .deb and the .rpm).
export interface PackageFile {
  path: string | null;
  from: string;
  mode: number;
  kind: 'file' | 'man' | 'doc' | 'license';
  only?: 'deb' | 'rpm';
}
export const PACKAGE: {
  name: string;
  summary: string;
  description: string[];
  license: string;
  maintainer: string;
  section: string;
  depends: string[];
  debLibraryDepends: string[];
};
export const BINARY: string;
export const SHARE: string;
export const DOC: string;
export const COMPLETIONS: { shell: 'bash' | 'zsh' | 'fish'; file: string; path: string; only?: 'deb' | 'rpm' }[];
export function packageFiles(root: string, executable: string): PackageFile[];
export function removalCheck(): string[];
