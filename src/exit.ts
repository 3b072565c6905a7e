// sysexits(3) codes the gate and the admin commands end with.
export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_SOFTWARE = 70; // internal error
export const EX_NOPERM = 77; // refused
export const EX_CONFIG = 78; // configuration error

// The gate's cold code (the YAML parser and schema) is a bundle of its own
// with its own copy of this class (scripts/build.mjs); errors are recognised
// by a registered symbol, not by which copy of the class made them.
const BRAND = Symbol.for('gatekeeper.error');

/** An error that carries the exit code and an admin-readable message. */
export class GatekeeperError extends Error {
  readonly [BRAND] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }

  constructor(
    message: string,
    readonly exitCode: number,
    readonly code = 'error',
  ) {
    super(message);
    this.name = 'GatekeeperError';
  }
}

export const configError = (message: string, code = 'config') => new GatekeeperError(message, EX_CONFIG, code);

/** Runs an admin command's action: its exit code, a GatekeeperError's message and code, anything else 70 with its stack. */
export async function guarded(fn: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await fn();
  } catch (e) {
    if (e instanceof GatekeeperError) {
      process.stderr.write(`gatekeeper: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else {
      process.stderr.write(`gatekeeper: internal error: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = EX_SOFTWARE;
    }
  }
}
