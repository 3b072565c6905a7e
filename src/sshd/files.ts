// The machine's sshd configuration files, for firstGlobalSetting (install, doctor).
import { readdirSync, readFileSync } from 'node:fs';
import type { ConfigReader } from './config.js';

export const fsConfigReader: ConfigReader = {
  readFile(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  readDir(dir) {
    try {
      return readdirSync(dir);
    } catch {
      return null;
    }
  },
};
