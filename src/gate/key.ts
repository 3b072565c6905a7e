// The authenticating key from SSH_USER_AUTH (sshd's ExposeAuthInfo): its
// type and SHA256 fingerprint, as ssh-keygen -l prints them.
import { readFileSync } from 'node:fs';

/** Async: node:crypto is loaded only when sshd exposes the key (ExposeAuthInfo). */
export async function keyFingerprint(userAuthFile: string | null): Promise<string | null> {
  if (!userAuthFile) return null;
  let text: string;
  try {
    text = readFileSync(userAuthFile, 'utf8');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => l.startsWith('publickey '));
  if (!line) return null;
  const [, type, blob] = line.split(' ');
  if (!type || !blob) return null;
  const { createHash } = await import('node:crypto');
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64').replace(/=+$/, '');
  return `${type} SHA256:${digest}`;
}
