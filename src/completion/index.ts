import type { Command } from 'commander';
import { commandModel, policyDirs } from './model.js';
import { bashScript } from './bash.js';
import { zshScript } from './zsh.js';
import { fishScript } from './fish.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** The completion script for shell, or null for a shell it has none for. */
export function completionScript(program: Command, shell: string): string | null {
  const model = commandModel(program);
  const dirs = policyDirs(program);
  if (shell === 'bash') return bashScript(model, dirs);
  if (shell === 'zsh') return zshScript(model, dirs);
  if (shell === 'fish') return fishScript(model, dirs);
  return null;
}
