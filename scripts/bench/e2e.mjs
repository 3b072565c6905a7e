// End to end through a private sshd on 127.0.0.1: the original setup's pull
// (`rsync -avzx --numeric-ids --delete --progress root@host:/ DST/`), once
// through the gate and once through the exact fixed command the admin
// finally wrote into authorized_keys. Both key lines sit in the same
// authorized_keys in turn; everything else (sshd, client, trees) is shared.
import { mkdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { authorizedKeysLine, gateCommand } from '../lib/sshd.mjs';
import { nowMs, summarize } from './stats.mjs';
import { sampleTree } from './procs.mjs';
import { treeStats } from './trees.mjs';

/** The client side, verbatim from the original setup. */
export const PULL = ['-avzx', '--numeric-ids', '--delete', '--progress'];

/** The server side the client sends for PULL; the fixed command hard-codes it. */
export const SERVER_COMMAND = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids .';

/** The original setup's final authorized_keys line, with the tree's path in place of /. */
export function fixedLine(publicKey, tree) {
  return `command="${SERVER_COMMAND} ${tree}/",no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty ${publicKey}`;
}

/**
 * The floor for any node program in the gate's place: the fixed command
 * after a bare `node -e 0`, both run by the login shell as sshd runs a
 * forced command. Measured, not computed: under sshd a node start costs
 * more than in the latency bench.
 */
export function floorLine(publicKey, tree, node) {
  return `command="${node} -e 0; ${SERVER_COMMAND} ${tree}/",no-port-forwarding,no-agent-forwarding,no-X11-forwarding,no-pty ${publicKey}`;
}

/** The gate's line as `gatekeeper install` writes it: the launcher, run as an executable. */
export function gateLine(publicKey, { launcher, policy }) {
  return authorizedKeysLine(gateCommand({ policy, node: null, gatekeeper: launcher }), publicKey);
}

async function pull(sshd, keyLine, dst) {
  sshd.setAuthorizedKeys([keyLine]);
  const t0 = nowMs();
  const r = await sshd.rsync([...PULL, 'root@127.0.0.1:/', `${dst}/`], { timeoutMs: 600_000 });
  const ms = nowMs() - t0;
  if (r.code !== 0) throw new Error(`pull into ${dst} failed: exit ${r.code}\n${r.stderr}\n--- sshd log\n${sshd.sshdLog().slice(-3000)}`);
  return ms;
}

/**
 * A no-op resync: every case pulls the unchanged tree once to warm up (and
 * to make its destination complete), then `reps` timed rounds interleave
 * the cases in a rotating order.
 */
export async function noopResync(sshd, cases, { dir, reps, onRep = () => {} }) {
  const dst = (c) => join(dir, `noop-${c.id}`);
  for (const c of cases) {
    mkdirSync(dst(c), { recursive: true });
    await pull(sshd, c.keyLine, dst(c));
    await pull(sshd, c.keyLine, dst(c));
  }
  const samples = new Map(cases.map((c) => [c.id, []]));
  for (let i = 0; i < reps; i++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + i) % cases.length];
      samples.get(c.id).push(await pull(sshd, c.keyLine, dst(c)));
    }
    onRep(i + 1);
  }
  return Object.fromEntries(cases.map((c) => [c.id, { label: c.label, ...summarize(samples.get(c.id)) }]));
}

/**
 * A full pull into an empty destination, `reps` times per case (rotating
 * order). Throughput is the tree's bytes over the client's wall time. The
 * destination may be on tmpfs (`destDir`): the disk's write-back of one pull
 * then cannot slow the next, which only adds noise to a comparison of what
 * runs on the server. While
 * each pull runs, the processes below sshd are sampled: what stays resident
 * during a transfer.
 */
export async function fullPull(sshd, cases, { dir, destDir = dir, reps, bytes, files, onRep = () => {} }) {
  const samples = new Map(cases.map((c) => [c.id, []]));
  const resident = new Map(cases.map((c) => [c.id, null]));
  for (let i = 0; i < reps; i++) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(k + i) % cases.length];
      const dst = join(destDir, `full-${c.id}`);
      rmSync(dst, { recursive: true, force: true });
      mkdirSync(dst);
      // Settle the previous pull's writes so they do not land on this one.
      spawnSync('/usr/bin/sync');
      const sampler = sampleTree(sshd.pid, 100);
      const ms = await pull(sshd, c.keyLine, dst);
      const seen = sampler.stop();
      const got = treeStats(dst);
      if (got.bytes !== bytes || got.files !== files) throw new Error(`${c.label}: pulled ${got.files} files / ${got.bytes} bytes, expected ${files} / ${bytes}`);
      samples.get(c.id).push(bytes / 1024 / 1024 / (ms / 1000));
      resident.set(c.id, mergeResident(resident.get(c.id), seen.byComm));
    }
    onRep(i + 1);
  }
  for (const c of cases) rmSync(join(destDir, `full-${c.id}`), { recursive: true, force: true });
  return Object.fromEntries(cases.map((c) => [c.id, { label: c.label, mibPerSec: summarize(samples.get(c.id)), resident: resident.get(c.id) }]));
}

function mergeResident(a, b) {
  if (!a) return b;
  const out = { ...a };
  for (const [comm, e] of Object.entries(b)) {
    const p = out[comm] ?? { count: 0, maxKiB: 0, sumKiB: 0 };
    out[comm] = { count: Math.max(p.count, e.count), maxKiB: Math.max(p.maxKiB, e.maxKiB), sumKiB: Math.max(p.sumKiB, e.sumKiB) };
  }
  return out;
}
