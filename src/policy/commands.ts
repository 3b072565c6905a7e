// `gatekeeper policy validate|schema|options`.
import { readdirSync } from 'node:fs';
import { toJSONSchema } from 'zod/v4/core';
import { GatekeeperError, EX_CONFIG, EX_OK } from '../exit.js';
import { adminPolicyArg, loadPolicy } from './load.js';
import { PolicySchema } from './schema.js';
import { LONG_OPTIONS, SHORT_OPTIONS } from '../rsync/options.js';

export async function validateCommand(names: string[], opts: { policyDir: string; trust: boolean }): Promise<number> {
  let targets = names;
  if (targets.length === 0) {
    try {
      targets = readdirSync(opts.policyDir)
        .filter((f) => /\.(ya?ml|json)$/.test(f))
        .map((f) => `${opts.policyDir}/${f}`);
    } catch (e) {
      process.stderr.write(`gatekeeper: cannot list ${opts.policyDir}: ${(e as Error).message}\n`);
      return EX_CONFIG;
    }
    if (targets.length === 0) {
      process.stderr.write(`gatekeeper: no policy files in ${opts.policyDir}\n`);
      return EX_CONFIG;
    }
  }
  let status = EX_OK;
  for (const name of targets) {
    try {
      const loaded = await loadPolicy(adminPolicyArg(name), { policyDir: opts.policyDir, checkTrust: opts.trust && process.getuid?.() === 0 });
      const p = loaded.policy;
      const window = p.window ? `, window ${p.window.join(' ')} (${p.timezone ?? 'local time'})` : '';
      process.stdout.write(`ok    ${loaded.file}: ${p.daemon ? `daemon (${p.daemon.config})` : `${p.access}, root ${p.root}`}, rsync ${p.rsync}${window}${p.enforce ? '' : ', PERMISSIVE'}\n`);
    } catch (e) {
      if (!(e instanceof GatekeeperError)) throw e;
      process.stdout.write(`fail  ${name}: ${e.message}\n`);
      status = EX_CONFIG;
    }
  }
  return status;
}

export function schemaCommand(): void {
  const schema = toJSONSchema(PolicySchema, { io: 'input' }) as Record<string, unknown>;
  schema.title = 'gatekeeper policy';
  process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
}

export function optionsCommand(json: boolean): void {
  const all = [...SHORT_OPTIONS, ...LONG_OPTIONS];
  if (json) {
    process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
    return;
  }
  for (const o of all) process.stdout.write(`${o.name.padEnd(24)} ${o.arg.padEnd(10)} ${o.risk.padEnd(12)} ${o.why}\n`);
}
