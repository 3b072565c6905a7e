// The SSH session as sshd hands it to a forced command, read once at the
// edge. Nothing below the gate's runner reads process.env.
export interface Endpoint {
  addr: string;
  port: number;
}

export interface Session {
  /** SSH_ORIGINAL_COMMAND; null when the client asked for a shell. */
  originalCommand: string | null;
  /** From SSH_CONNECTION: client address and port. */
  client: Endpoint | null;
  /** From SSH_CONNECTION: server address and port. */
  server: Endpoint | null;
  /** USER (sshd sets it to the authenticated user). */
  user: string | null;
  /** SSH_USER_AUTH: path of the file with the methods used (ExposeAuthInfo yes). */
  userAuthFile: string | null;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parse SSH_CONNECTION ("client_ip client_port server_ip server_port"). */
export function parseSshConnection(value: string | undefined): { client: Endpoint | null; server: Endpoint | null } {
  const parts = (value ?? '').trim().split(/\s+/);
  if (parts.length !== 4) return { client: null, server: null };
  const [ca, cp, sa, sp] = parts as [string, string, string, string];
  const endpoint = (addr: string, port: string): Endpoint | null => {
    const n = Number(port);
    return /^\d+$/.test(port) && n <= 65535 ? { addr: stripMappedV4(addr), port: n } : null;
  };
  return { client: endpoint(ca, cp), server: endpoint(sa, sp) };
}

function stripMappedV4(addr: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(addr) ? addr.slice(7) : addr;
}

export function readSession(env: Env): Session {
  const { client, server } = parseSshConnection(env.SSH_CONNECTION);
  return {
    originalCommand: env.SSH_ORIGINAL_COMMAND ?? null,
    client,
    server,
    user: env.USER ?? env.LOGNAME ?? null,
    userAuthFile: env.SSH_USER_AUTH ?? null,
  };
}
