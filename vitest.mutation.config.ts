import { defineConfig } from 'vitest/config';

// The in-process tests that `npm run mutation` (StrykerJS) runs against each
// mutant of the security core: unit and property tests that call the pure
// code directly. Tests that start processes (the gate bundle, sshd, rsync,
// sh) are left out: a mutant of src/ never reaches a bundle, and they are
// too slow to run once per mutant.
export default defineConfig({
  test: {
    include: [
      'test/decide/*.test.ts',
      'test/net/*.test.ts',
      'test/rsync/*.test.ts',
      'test/shell/*.test.ts',
      'test/security/corpus-in-process.test.ts',
      // Every recorded line of every client (openrsync's among them) judged
      // in-process; corpus.test.ts, which runs the clients, stays out.
      'test/clients/verdicts.test.ts',
    ],
    // real-clients runs the rsync client (and rrsync) to record its commands.
    exclude: ['test/decide/real-clients.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // fast-check's seed, fixed (test/setup/fast-check.ts).
    setupFiles: ['test/setup/fast-check.ts'],
  },
});
