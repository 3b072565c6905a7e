import { defineConfig } from 'vitest/config';

// End-to-end tests start a private sshd and run real rsync transfers: they
// need longer timeouts than unit tests, and separate processes (forks) so a
// test file's sshd and signal handlers stay its own.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // fast-check's seed, fixed (test/setup/fast-check.ts).
    setupFiles: ['test/setup/fast-check.ts'],
    // The host's files as before the run, or the run fails (test/setup/system-files.ts).
    globalSetup: ['test/setup/system-files.ts'],
    pool: 'forks',
  },
});
