// Issue 19, security item 2: a client variable that Node reads before any of
// the gate's code runs. Through a real sshd that accepts OPENSSL_CONF and
// NODE_OPTIONS (the misconfiguration doctor now fails), a `restrict,command=`
// key and `ssh -o SetEnv=…`: an OpenSSL configuration whose nodejs_conf
// providers section names a shared object built here with gcc (its
// constructor writes a marker), and a NODE_OPTIONS --require of a file that
// writes another. The self-contained executable, built here from this
// checkout's dist/ with scripts/lib/executable.mjs, loads neither; the npm
// build under a plain node loads both (the control: the attack is real, and
// only doctor's AcceptEnv check stands in front of it there).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE, REPO } from '../helpers/gate.js';
import { authorizedKeysLine, describeRun, startSshd, type Sshd } from '../helpers/sshd.js';

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /';

describe('variables Node reads at start-up, sent by the client through AcceptEnv', { timeout: 5 * 60_000 }, () => {
  let sshd: Sshd;
  let d: string;
  let exe: string;
  const marker = () => join(d, 'ssl-marker');
  const marker2 = () => join(d, 'require-marker');

  beforeAll(async () => {
    sshd = await startSshd({ prefix: 'gk-startup-env-', extraConfig: ['AcceptEnv LANG LC_* OPENSSL_CONF NODE_OPTIONS'] });
    d = join(sshd.dir, 'attack');
    mkdirSync(d, { mode: 0o755 });
    writeFileSync(join(d, 'evil.c'), `#include <stdio.h>\n__attribute__((constructor)) static void own(void) { FILE *f = fopen("${marker()}", "w"); if (f) { fputs("loaded as root\\n", f); fclose(f); } }\nint OSSL_provider_init(void) { return 0; }\n`);
    execFileSync('gcc', ['-shared', '-fPIC', '-o', join(d, 'evil.so'), join(d, 'evil.c')]);
    writeFileSync(join(d, 'evil.cnf'), `nodejs_conf = nodejs_init\n[nodejs_init]\nproviders = provider_sect\n[provider_sect]\nevil = evil_sect\n[evil_sect]\nmodule = ${d}/evil.so\nactivate = 1\n`);
    writeFileSync(join(d, 'evil.js'), `require('fs').writeFileSync(${JSON.stringify(marker2())}, 'ran as root\\n');\n`);
    // The executable, built from dist/ as npm run package builds it (x64, this machine's CPU).
    const { buildExecutables } = (await import(join(REPO, 'scripts', 'lib', 'executable.mjs'))) as {
      buildExecutables: (o: Record<string, unknown>) => Promise<{ file: string }[]>;
    };
    const work = join(sshd.dir, 'sea-work');
    const out = join(sshd.dir, 'bin');
    mkdirSync(work);
    mkdirSync(out, { mode: 0o755 });
    const [built] = await buildExecutables({ root: REPO, dist: join(REPO, 'dist'), out, work, version: JSON.parse(execFileSync(NODE, ['-p', `JSON.stringify(require(${JSON.stringify(join(REPO, 'package.json'))}).version)`], { encoding: 'utf8' })), archs: ['x64'] });
    exe = built!.file;
    chmodSync(exe, 0o755);
    writeFileSync(join(sshd.dir, 'p.yaml'), `rsync: /usr/bin/rsync\naccess: read-only\nroot: /\nlog: ${sshd.dir}/gatekeeper.log\n`, { mode: 0o600 });
  }, 5 * 60_000);
  afterAll(async () => {
    await sshd?.stop();
  });

  // One variable at a time: a provider that fails its initialisation stops
  // Node right after it ran, before NODE_OPTIONS' --require would.
  const attack = async (forced: string, variable: 'OPENSSL_CONF' | 'NODE_OPTIONS') => {
    rmSync(marker(), { force: true });
    rmSync(marker2(), { force: true });
    sshd.setAuthorizedKeys([authorizedKeysLine(forced, sshd.clientPublicKey)]);
    const value = variable === 'OPENSSL_CONF' ? `${d}/evil.cnf` : `--require=${d}/evil.js`;
    const r = await sshd.ssh([PULL], { sshArgs: ['-o', `SetEnv=${variable}=${value}`] });
    return { r, ran: existsSync(variable === 'OPENSSL_CONF' ? marker() : marker2()) };
  };
  const npmBuild = () => `${NODE} ${join(REPO, 'dist', 'gatekeeper.mjs')} gate --policy ${sshd.dir}/p.yaml`;
  const executable = () => `${exe} gate --policy ${sshd.dir}/p.yaml`;

  it.each(['OPENSSL_CONF', 'NODE_OPTIONS'] as const)('control: %s under a plain node (the npm build) runs the client\'s code as root before the gate', async (variable) => {
    const { r, ran } = await attack(npmBuild(), variable);
    expect(ran, describeRun(r)).toBe(true);
  });

  it.each(['OPENSSL_CONF', 'NODE_OPTIONS'] as const)('the executable ignores %s: nothing of the client\'s runs, and the pull is still served', async (variable) => {
    const { r, ran } = await attack(executable(), variable);
    expect(ran, describeRun(r)).toBe(false);
    // The gate ran and allowed the pull (its rsync then waits for a client that is only ssh here).
    expect(r.stderr, describeRun(r)).not.toMatch(/Assertion|internal error/);
  });
});
