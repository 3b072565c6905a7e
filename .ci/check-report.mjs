// Reads vitest's JSON report and fails (exit 1) when any test was skipped or
// marked todo, unless its full title is on .ci/allowed-skips (one title per
// line; "#" starts a comment, and every entry must say why in one). Prints
// the totals as one plain line. Usage: node .ci/check-report.mjs REPORT [ALLOWED]
import { existsSync, readFileSync } from 'node:fs';

const [report, allowedFile = new URL('./allowed-skips', import.meta.url).pathname] = process.argv.slice(2);
const r = JSON.parse(readFileSync(report, 'utf8'));
const allowed = new Set(
  (existsSync(allowedFile) ? readFileSync(allowedFile, 'utf8') : '')
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== ''),
);
const notRun = [];
for (const file of r.testResults ?? []) {
  for (const t of file.assertionResults ?? []) {
    if (t.status === 'passed' || t.status === 'failed') continue;
    // skipped, pending, todo, disabled: anything that did not run
    if (!allowed.has(t.fullName)) notRun.push(`${t.status}: ${t.fullName} (${file.name})`);
  }
}
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped or todo` : ''));
if (notRun.length > 0) {
  console.error(`CI: ${notRun.length} test(s) did not run and are not on ${allowedFile}:`);
  for (const n of notRun) console.error(`  ${n}`);
}
process.exit(r.numFailedTests > 0 || r.success === false || notRun.length > 0 ? 1 : 0);
