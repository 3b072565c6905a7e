// Client address matching for the policy's `from` list (IPs and CIDRs, v4 and v6).
import { BlockList, isIP } from 'node:net';

export function addressInList(addr: string, entries: readonly string[]): boolean {
  const family = isIP(addr);
  if (family === 0) return false;
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, bits] = entry.split('/') as [string, string | undefined];
    const f = isIP(ip);
    if (f === 0) continue;
    const type = f === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  // An IPv4 client seen by an IPv6 socket arrives as ::ffff:a.b.c.d (session.ts strips it).
  return list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
}

/** True when every entry is an IP address or a CIDR with a valid prefix length. */
export function validAddressEntry(entry: string): boolean {
  const [ip, bits, extra] = entry.split('/');
  if (extra !== undefined || ip === undefined) return false;
  const f = isIP(ip);
  if (f === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (f === 6 ? 128 : 32);
}
