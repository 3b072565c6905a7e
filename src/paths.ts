// Machine paths more than one command needs to agree on.

/** The gate's cache (compiled code, validated policies); root's alone. */
export const CACHE_DIR = '/var/cache/gatekeeper';
