// SIGUSR1 makes Node open the V8 inspector on 127.0.0.1:9229, and whoever
// connects to it runs code in this process: as root, for the gate. On the
// spawn fallback (Node without process.execve) the gate stays alive while
// rsync runs, and a local rsync client even sends its rsh child SIGUSR1
// during cleanup. A listener of our own replaces Node's handler (checked on
// Node 20, where --disable-sigusr1 does not exist); the executable also
// starts with --disable-sigusr1 (scripts/lib/executable.mjs). Every entry
// imports this first: bin/gatekeeper does the same in its own line.
process.on('SIGUSR1', () => {});
