import { describe, expect, it } from '@jest/globals';

import { addressRestriction, parseIPv6, type AddressRestriction } from './ip-address.parser.js';

function expectRestrictions(cases: [string, AddressRestriction | null][]): void {
  for (const [address, restriction] of cases) {
    expect({ address, restriction: addressRestriction(address) }).toEqual({ address, restriction });
  }
}

describe('parseIPv6', () => {
  it('expands "::" and embedded dotted IPv4 into 16 bytes', () => {
    expect(parseIPv6('::')).toEqual(Array(16).fill(0));
    expect(parseIPv6('::1')).toEqual([...Array(15).fill(0), 1]);
    expect(parseIPv6('::ffff:127.0.0.1')).toEqual([...Array(10).fill(0), 0xff, 0xff, 127, 0, 0, 1]);
    expect(parseIPv6('::ffff:7f00:1')).toEqual(parseIPv6('::ffff:127.0.0.1'));
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4')).toEqual([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4]);
    expect(parseIPv6('2001:DB8::8:800:200C:417A')).toEqual([
      0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 8, 8, 0, 0x20, 0x0c, 0x41, 0x7a,
    ]);
    expect(parseIPv6('fe80::1%eth0')).toEqual([0xfe, 0x80, ...Array(13).fill(0), 1]);
  });

  it('returns null for what is not an IPv6 address', () => {
    for (const text of ['', '1.2.3.4', '[::1]', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', 'localhost']) {
      expect(parseIPv6(text)).toBeNull();
    }
  });
});

describe('addressRestriction', () => {
  it('lets public unicast addresses through', () => {
    expectRestrictions([
      ['8.8.8.8', null],
      ['1.1.1.1', null],
      ['93.184.215.14', null],
      ['172.15.255.255', null],
      ['172.32.0.0', null],
      ['100.63.255.255', null],
      ['100.128.0.0', null],
      ['169.253.255.255', null],
      ['223.255.255.255', null],
      ['2606:4700:4700::1111', null],
      ['2a00:1450:4001:81c::200e', null],
      ['::ffff:8.8.8.8', null],
      ['64:ff9b::808:808', null],
      ['2002:808:808::1', null],
    ]);
  });

  it('refuses IPv4 loopback, private, link-local (cloud metadata included), CGNAT and unspecified', () => {
    expectRestrictions([
      ['127.0.0.1', 'loopback'],
      ['127.255.255.254', 'loopback'],
      ['10.0.0.1', 'private'],
      ['10.255.255.255', 'private'],
      ['172.16.0.1', 'private'],
      ['172.31.255.255', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['169.254.0.1', 'link-local'],
      ['100.64.0.1', 'carrier-grade-nat'],
      ['100.127.255.255', 'carrier-grade-nat'],
      ['0.0.0.0', 'unspecified'],
      ['0.1.2.3', 'unspecified'],
    ]);
  });

  it('refuses IPv4 multicast, broadcast, reserved, documentation and benchmarking ranges', () => {
    expectRestrictions([
      ['224.0.0.1', 'multicast'],
      ['239.255.255.250', 'multicast'],
      ['255.255.255.255', 'broadcast'],
      ['240.0.0.1', 'reserved'],
      ['255.255.255.254', 'reserved'],
      ['192.0.0.170', 'reserved'],
      ['192.88.99.1', 'reserved'],
      ['192.0.2.1', 'documentation'],
      ['198.51.100.1', 'documentation'],
      ['203.0.113.1', 'documentation'],
      ['198.18.0.1', 'benchmarking'],
      ['198.19.255.255', 'benchmarking'],
    ]);
  });

  it('refuses IPv6 loopback, unspecified, link-local, unique-local, site-local and multicast', () => {
    expectRestrictions([
      ['::1', 'loopback'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::', 'unspecified'],
      ['fe80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['febf:ffff::1', 'link-local'],
      ['fc00::1', 'unique-local'],
      ['fd12:3456:789a::1', 'unique-local'],
      ['fec0::1', 'private'],
      ['ff02::1', 'multicast'],
      ['ff05::1:3', 'multicast'],
    ]);
  });

  it('judges IPv4-mapped and IPv4-compatible IPv6 addresses by the IPv4 address they carry', () => {
    expectRestrictions([
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
      ['::ffff:169.254.169.254', 'link-local'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:0.0.0.0', 'unspecified'],
      ['::ffff:0:127.0.0.1', 'loopback'],
      ['::127.0.0.1', 'loopback'],
      ['::7f00:1', 'loopback'],
      ['::192.168.0.1', 'private'],
      ['::100.64.0.1', 'carrier-grade-nat'],
    ]);
  });

  it('judges NAT64 and 6to4 addresses by the IPv4 address they embed', () => {
    expectRestrictions([
      ['64:ff9b::127.0.0.1', 'loopback'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['64:ff9b::a9fe:a9fe', 'link-local'],
      ['64:ff9b::c0a8:101', 'private'],
      ['64:ff9b:1::808:808', 'private'],
      ['2002:7f00:1::', 'loopback'],
      ['2002:7f00:0001:0:0:0:0:1', 'loopback'],
      ['2002:a9fe:a9fe::1', 'link-local'],
      ['2002:0a00:0001::', 'private'],
      ['2002:6440:1::', 'carrier-grade-nat'],
    ]);
  });

  it('refuses IPv6 outside global unicast and the special ranges inside it', () => {
    expectRestrictions([
      ['100::1', 'reserved'],
      ['4000::1', 'reserved'],
      ['2001::1', 'reserved'],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
      ['2001:db8::1', 'documentation'],
      ['3fff::1', 'documentation'],
    ]);
  });

  it('refuses what it cannot parse rather than letting it through', () => {
    expectRestrictions([
      ['localhost', 'invalid'],
      ['0x7f.1', 'invalid'],
      ['0177.0.0.1', 'invalid'],
      ['2130706433', 'invalid'],
      ['127.1', 'invalid'],
      ['[::1]', 'invalid'],
      ['', 'invalid'],
    ]);
  });
});
