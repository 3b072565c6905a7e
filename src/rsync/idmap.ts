// rsync's --usermap/--groupmap values, read the way the receiving rsync reads
// them (uidlist.c parse_name_map): comma-separated FROM:TO items, split at
// the first ":"; FROM is a name, a wildcard, an id or a range and does not
// matter here; TO is an id when it is all digits, otherwise a name the
// receiver looks up. A client's --chown=USER:GROUP arrives as
// --usermap=*:USER --groupmap=*:GROUP.

/** Resolves a local account or group name to its id; null when the name is unknown. */
export type IdLookup = (name: string) => number | null;

/**
 * The first item of a map whose target is id 0 (root), or one whose target
 * cannot be shown not to be (a name the lookup does not know, no lookup at
 * all, an id that wraps to 0): fail closed. null when every target is a
 * known non-zero id.
 */
export function rootTarget(value: string, lookup: IdLookup | undefined): { item: string; why: string } | null {
  for (const item of value.split(',')) {
    const colon = item.indexOf(':');
    // rsync refuses a map without ":" or without a target itself; nothing maps to 0 then.
    if (colon < 0 || colon === item.length - 1) continue;
    const to = item.slice(colon + 1);
    if (/^[0-9]+$/.test(to)) {
      // rsync parses the id into a 32-bit id_t: 4294967296 is 0 too.
      if (BigInt(to) % 4294967296n === 0n) return { item, why: `maps to id ${to}, which is root's` };
      continue;
    }
    if (to === 'root') return { item, why: 'maps to root' };
    const id = lookup ? lookup(to) : null;
    if (id === null) return { item, why: `maps to "${to}", which is not a name in this server's local account files, so it cannot be shown not to be root (use a numeric id)` };
    if (id === 0) return { item, why: `maps to "${to}", which has id 0 (root's) on this server` };
  }
  return null;
}
