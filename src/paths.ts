// Machine paths more than one command needs to agree on.

/** The gate's cache (compiled code, validated policies); root's alone. */
export const CACHE_DIR = '/var/cache/gatekeeper';

/** Where maxConnections keeps its slots unless a policy sets stateDir (a root-owned tmpfs directory). */
export const DEFAULT_STATE_DIR = '/run/gatekeeper';
