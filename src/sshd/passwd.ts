// The user's passwd entry (home directory, login shell), through NSS like
// sshd does (getent), falling back to /etc/passwd.
import { readFileSync } from 'node:fs';
import { run } from './run.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export function parsePasswdLine(line: string): PasswdEntry | null {
  const f = line.split(':');
  if (f.length < 7) return null;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return null;
  return { name: f[0] ?? '', uid, gid, home: f[5] ?? '', shell: f[6] ?? '' };
}

export async function lookupUser(name: string): Promise<PasswdEntry | null> {
  if (!/^[A-Za-z0-9._][A-Za-z0-9._-]*\$?$/.test(name)) return null;
  const r = await run('/usr/bin/getent', ['passwd', name]);
  if (r.code === 0) return parsePasswdLine(r.stdout.trim().split('\n')[0] ?? '');
  if (!r.error) return null;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const e = parsePasswdLine(line);
      if (e && e.name === name) return e;
    }
  } catch {
    // no passwd file
  }
  return null;
}
