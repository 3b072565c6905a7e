// The trees the end-to-end cases pull: many small files (a nightly resync of
// a mostly unchanged system), and a few large ones (a first full backup).
import { mkdirSync, writeFileSync, readdirSync, lstatSync, utimesSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

// A fixed mtime, so rsync's quick check (size + mtime) sees an unchanged tree
// as unchanged on every run.
const WHEN = new Date('2024-01-02T03:04:05Z');

/** `files` files of 1..16 KiB in directories of 50; returns total bytes. */
export function buildManySmall(dir, files) {
  let bytes = 0;
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `d${String(Math.floor(i / 50)).padStart(3, '0')}`);
    if (i % 50 === 0) mkdirSync(sub, { recursive: true });
    const size = 1024 + ((i * 7919) % 15360);
    const file = join(sub, `f${i}.dat`);
    writeFileSync(file, randomBytes(size));
    utimesSync(file, WHEN, WHEN);
    bytes += size;
  }
  return bytes;
}

/**
 * About `totalMiB` in files of 8 MiB: half incompressible, half text that
 * compresses (rsync -z is in the original setup's command).
 */
export function buildLarge(dir, totalMiB) {
  mkdirSync(dir, { recursive: true });
  const chunk = 8;
  const count = Math.max(1, Math.round(totalMiB / chunk));
  const line = Buffer.from('2024-01-02T03:04:05Z host sshd[1234]: Accepted publickey for root from 192.0.2.10 port 50000 ssh2\n');
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const size = chunk * 1024 * 1024;
    let data;
    if (i % 2 === 0) data = randomBytes(size);
    else {
      data = Buffer.alloc(size);
      for (let off = 0; off < size; off += line.length) line.copy(data, off);
      // Sprinkle randomness so it is not trivially compressible either.
      for (let off = 0; off < size; off += 4096) randomBytes(16).copy(data, off);
    }
    const file = join(dir, `part-${String(i).padStart(3, '0')}.${i % 2 === 0 ? 'bin' : 'log'}`);
    writeFileSync(file, data);
    utimesSync(file, WHEN, WHEN);
    bytes += size;
  }
  return bytes;
}

/** Regular files and total bytes under dir (to check a pull arrived whole). */
export function treeStats(dir) {
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        files++;
        bytes += st.size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}
