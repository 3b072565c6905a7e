// Random ids (session ids, private file names) straight from the kernel:
// the same source crypto.randomBytes draws from, without loading node:crypto
// and OpenSSL on every connection (about 4 ms of start-up).
import { closeSync, openSync, readSync } from 'node:fs';

export function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let got = 0; got < bytes; ) {
      const n = readSync(fd, buf, got, bytes - got, null);
      if (n <= 0) throw new Error('/dev/urandom returned no data');
      got += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}
