import type { EnrollResult } from './enroll.js';

export function printResult(r: EnrollResult, json: boolean): number {
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    for (const a of r.actions) process.stdout.write(`${a.action} ${a.what}: ${a.detail}\n`);
    if (r.command) process.stdout.write(`the pull: ${r.command}\n`);
  }
  if (r.error) process.stderr.write(`gatekeeper: ${r.error}\n`);
  return r.code;
}
