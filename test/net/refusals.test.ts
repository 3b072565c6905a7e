// The from-list must refuse: clients outside an entry, entries of the other
// address family, v6 addresses that only look like mapped v4 ones, and
// malformed entries. The BlockList properties in net.test.ts check matches
// within one family; these pin the cases where a slip would admit every
// client (each was a surviving mutant in `npm run mutation`).
import { describe, expect, it } from 'vitest';
import { addressInList, parseIp, validAddressEntry } from '../../src/net.js';

describe('an entry without a prefix is that one address', () => {
  it.each([
    ['192.0.2.11', '192.0.2.10'],
    ['10.0.0.1', '192.0.2.10'],
    ['2001:db8::6', '2001:db8::5'],
    ['::1', '2001:db8::5'],
  ])('%s is not %s', (addr, entry) => {
    expect(addressInList(addr, [entry])).toBe(false);
    expect(addressInList(entry, [entry])).toBe(true);
  });
});

describe('only a real IPv4-mapped address (::ffff:0:0/96) is read as IPv4', () => {
  // Each carries 192.0.2.10 in its last four bytes, but is not ::ffff:192.0.2.10.
  it.each([
    '1::ffff:c000:20a', // a non-zero byte before the ffff
    '::1:0:0:ffff:c000:20a',
    '::ff00:c000:20a', // byte 11 is not ff
    '::ff:c000:20a', // byte 10 is not ff
    '::c000:20a', // the deprecated IPv4-compatible form
  ])('%s is not 192.0.2.10', (addr) => {
    expect(parseIp(addr)).not.toBeNull();
    expect(addressInList(addr, ['192.0.2.10'])).toBe(false);
    expect(addressInList(addr, ['192.0.2.0/24'])).toBe(false);
  });
  it('::ffff:192.0.2.10 is', () => {
    expect(addressInList('::ffff:192.0.2.10', ['192.0.2.10'])).toBe(true);
    expect(addressInList('::ffff:c000:20a', ['192.0.2.0/24'])).toBe(true);
  });
});

describe('an entry of the other family matches nothing', () => {
  it.each([
    ['192.0.2.10', '::/0'],
    ['192.0.2.10', 'c000:20a::/32'], // the v4 bytes at the start of a v6 network
    ['192.0.2.10', 'c000:20a::'],
    ['2001:db8::1', '0.0.0.0/0'],
    ['2001:db8::1', '32.1.13.184/32'], // 2001:0db8 as v4 bytes
  ])('%s in %s: no', (addr, entry) => {
    expect(addressInList(addr, [entry])).toBe(false);
  });
});

describe('a mapped entry\'s prefix must reach into the v4 part', () => {
  // ::ffff:192.0.2.0/64 is a v6 network whose prefix ends before the mapped
  // address starts: read as v4 it would be a negative prefix, every v4 client.
  it.each(['::ffff:192.0.2.0/64', '::ffff:192.0.2.0/95', '::ffff:0.0.0.0/0'])('%s admits no v4 client', (entry) => {
    for (const addr of ['192.0.2.10', '198.51.100.7', '::ffff:198.51.100.7']) expect(addressInList(addr, [entry]), addr).toBe(false);
  });
  it('::ffff:192.0.2.0/120 is 192.0.2.0/24, and ::ffff:0.0.0.0/96 every v4 client', () => {
    expect(addressInList('192.0.2.10', ['::ffff:192.0.2.0/120'])).toBe(true);
    expect(addressInList('198.51.100.7', ['::ffff:192.0.2.0/120'])).toBe(false);
    expect(addressInList('198.51.100.7', ['::ffff:0.0.0.0/96'])).toBe(true);
  });
});

describe('a malformed entry matches nothing (and does not stop the list)', () => {
  // The loader refuses these (validAddressEntry); the matcher must not read them as "everything".
  it.each(['192.0.2.0/33', '::ffff:192.0.2.0/129', '2001:db8::/129', '198.51.100.0/', '198.51.100.0/x', '198.51.100.0/x8', '198.51.100.0/8x', '198.51.100.0/-8', '198.51.100.0/ 8', 'bogus', 'bogus/0', ''])('%j', (entry) => {
    expect(addressInList('192.0.2.0', [entry])).toBe(false);
    expect(addressInList('192.0.2.10', [entry])).toBe(false);
    expect(addressInList('192.0.2.10', [entry, '192.0.2.10'])).toBe(true);
  });
});

describe('parseIp refuses near misses', () => {
  it.each([
    '192.0.2.10.5',
    '1:2:3:4:5:6:7:8::1::',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '1.2:3::',
    '::12345',
    '1:2:3:4::5:6:7:8',
    '1:2:3:4:5:6:7',
  ])('%s', (text) => {
    expect(parseIp(text)).toBeNull();
    expect(validAddressEntry(text)).toBe(false);
  });
  it('the longest address there is (45 characters) still parses', () => {
    const longest = '0000:0000:0000:0000:0000:ffff:192.168.100.228';
    expect(longest.length).toBe(45);
    expect(parseIp(longest)?.length).toBe(16);
    expect(addressInList('192.168.100.228', [longest])).toBe(true);
  });
});

describe('validAddressEntry takes a prefix of plain digits up to the family\'s width', () => {
  it.each(['192.0.2.1/32', '192.0.2.0/0', '::1/128', '2001:db8::/32'])('%s is valid', (e) => {
    expect(validAddressEntry(e)).toBe(true);
  });
  it.each(['192.0.2.0/0x10', '192.0.2.0/1e1', '192.0.2.0/ 24', '192.0.2.0/+24', '192.0.2.0/24 ', '192.0.2.0/33', '::1/129', '192.0.2.0/1234'])('%j is not', (e) => {
    expect(validAddressEntry(e)).toBe(false);
  });
});
