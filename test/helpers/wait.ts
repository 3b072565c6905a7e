// Waiting for a condition in a test that runs real processes. There is no
// deadline here: how long a loaded machine takes is no verdict on the code,
// so slowness must not turn a test red (the test's own timeout bounds the
// wait, and names the test that hung). What makes waiting longer pointless
// is a fact, not a clock: `failed` says so (the process waited for has
// exited), and then the wait fails at once with that reason.
export async function waitUntil(ok: () => boolean | Promise<boolean>, failed: () => string | null = () => null, everyMs = 20): Promise<void> {
  for (;;) {
    if (await ok()) return;
    const why = failed();
    if (why !== null) throw new Error(why);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
