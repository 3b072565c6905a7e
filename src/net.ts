// Client address matching for the policy's `from` list (IPs and CIDRs, v4
// and v6). Pure code rather than node:net's BlockList: node:net drags the
// whole socket stack into the gate's start-up for one comparison.

/** 4 bytes for an IPv4 address, 16 for IPv6, or null when it is neither. */
export function parseIp(text: string): Uint8Array | null {
  const v4 = parseV4(text);
  if (v4) return v4;
  return parseV6(text);
}

function parseV4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
}

function parseV6(text: string): Uint8Array | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || text.length > 45) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  // A dotted v4 part may only end the address: "1.2.3.4::" is not one.
  const groups = (s: string, last: boolean): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (last && i === items.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (!v4) return null;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1]!, true) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it carries. */
function unmap(ip: Uint8Array): Uint8Array {
  if (ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) return ip.subarray(12);
  return ip;
}

function inPrefix(addr: Uint8Array, net: Uint8Array, bits: number): boolean {
  if (addr.length !== net.length) return false;
  for (let i = 0; i < addr.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

export function addressInList(addr: string, entries: readonly string[]): boolean {
  const parsed = parseIp(addr);
  if (!parsed) return false;
  const ip = unmap(parsed);
  for (const entry of entries) {
    const [net, bits] = entry.split('/') as [string, string | undefined];
    // A malformed prefix ("/", "/x") would read as NaN and match every
    // client: such an entry matches nothing (the policy loader refuses it).
    if (bits !== undefined && !/^\d{1,3}$/.test(bits)) continue;
    const n = parseIp(net);
    if (!n) continue;
    const m = unmap(n);
    const width = m.length * 8;
    const prefix = bits === undefined ? width : Number(bits) - (n.length - m.length) * 8;
    if (prefix < 0 || prefix > width) continue;
    if (inPrefix(ip, m, prefix)) return true;
  }
  return false;
}

/** True when the entry is an IP address or a CIDR with a valid prefix length. */
export function validAddressEntry(entry: string): boolean {
  const [ip, bits, extra] = entry.split('/');
  if (extra !== undefined || ip === undefined) return false;
  const parsed = parseIp(ip);
  if (!parsed) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= parsed.length * 8;
}
