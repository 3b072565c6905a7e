// The from-list matcher against node:net's BlockList as the oracle.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BlockList, isIP } from 'node:net';
import { addressInList, parseIp, validAddressEntry } from '../../src/net.js';

describe('parseIp agrees with node:net isIP', () => {
  it.each(['192.0.2.1', '0.0.0.0', '255.255.255.255', '::', '::1', '2001:db8::5', 'fe80::1:2:3:4', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8', '1::8'])('%s is an address', (a) => {
    expect(parseIp(a)?.length).toBe(isIP(a) === 4 ? 4 : 16);
  });
  it.each(['256.1.1.1', '1.2.3', '01.2.3.4', '1:2:3:4:5:6:7:8:9', '1::2::3', 'x::1', '', '1.2.3.4/8', ':::'])('%s is not', (a) => {
    expect(parseIp(a)).toBeNull();
    expect(isIP(a)).toBe(0);
  });
  it('random v4 and v6 text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 })), (a) => {
        expect(parseIp(a) !== null).toBe(isIP(a) !== 0);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('addressInList matches like BlockList', () => {
  it.each([
    ['192.0.2.10', ['192.0.2.0/24'], true],
    ['192.0.2.10', ['192.0.3.0/24'], false],
    ['192.0.2.10', ['192.0.2.10'], true],
    ['10.1.2.3', ['10.0.0.0/8', '2001:db8::/32'], true],
    ['2001:db8::5', ['2001:db8::/32'], true],
    ['2001:db9::5', ['2001:db8::/32'], false],
    ['::ffff:192.0.2.10', ['192.0.2.0/24'], true],
    ['192.0.2.10', ['0.0.0.0/0'], true],
    ['192.0.2.10', ['::ffff:192.0.2.0/120'], true],
    ['bogus', ['0.0.0.0/0'], false],
  ] as const)('%s in %j: %s', (addr, list, expected) => {
    expect(addressInList(addr, list)).toBe(expected);
  });
  it('random v4 addresses and prefixes', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (addr, net, bits) => {
        const bl = new BlockList();
        bl.addSubnet(net, bits, 'ipv4');
        expect(addressInList(addr, [`${net}/${bits}`])).toBe(bl.check(addr, 'ipv4'));
      }),
      { numRuns: 3000 },
    );
  });
  it('random v6 addresses and prefixes', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), fc.integer({ min: 0, max: 128 }), (addr, net, bits) => {
        const bl = new BlockList();
        bl.addSubnet(net, bits, 'ipv6');
        expect(addressInList(addr, [`${net}/${bits}`])).toBe(bl.check(addr, 'ipv6'));
      }),
      { numRuns: 3000 },
    );
  });
  it('validates entries', () => {
    expect(['192.0.2.0/24', '2001:db8::/32', '192.0.2.1'].every(validAddressEntry)).toBe(true);
    expect(['192.0.2.0/33', '2001:db8::/129', 'host.example', '1.2.3.4/8/1', ''].some(validAddressEntry)).toBe(false);
  });
});
