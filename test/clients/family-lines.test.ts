// The lines test/rsync/client-family.test.ts pins are what the clients send today: each recorded again from the
// real client (scripts/clients.sh builds them) with the recording -e.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupClients, clients, recordClientCommand } from '../helpers/clients.js';
import { FAMILY_LINES } from '../rsync/client-family-lines.js';

const base = mkdtempSync(join(tmpdir(), 'gk-family-'));
mkdirSync(join(base, 'SRC'));
writeFileSync(join(base, 'SRC', 'f'), 'x\n');
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
  cleanupClients();
});

describe('the family lines are what the clients send', () => {
  it.each(FAMILY_LINES.map((l) => [l.client, l.args.join(' '), l.line] as const))('%s %s', (client, args, line) => {
    const c = clients().find((x) => x.name === client);
    if (!c) throw new Error(`no client ${client}`);
    const argv = args.split(' ').map((a) => (a.startsWith('SRC') ? join(base, a) : a));
    expect(recordClientCommand(argv, base, c.bin)).toBe(line);
  });
});
