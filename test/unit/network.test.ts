import { describe, expect, it } from 'vitest';
import { isIpAddress, networkContains, parseNetwork } from '../../shared/network';

describe('IP addresses and CIDR blocks', () => {
  it.each([
    ['10.0.0.0/8', 4, 8],
    ['192.168.1.7', 4, 32],
    ['0.0.0.0/0', 4, 0],
    ['2001:db8::/32', 6, 32],
    ['::1', 6, 128],
    ['::ffff:10.0.0.1', 4, 32],
    ['::ffff:10.0.0.0/104', 4, 8],
    ['::ffff:a00:0/104', 4, 8],
    ['::ffff:0.0.0.0/96', 4, 0],
    ['::ffff:0.0.0.0/80', 6, 80],
  ])('reads %s as an IPv%i network of /%i', (text, family, bits) => {
    expect(parseNetwork(text)).toMatchObject({ family, bits });
  });

  it.each([
    '',
    '10.0.0.0/33',
    '2001:db8::/129',
    '10.0.0.256',
    '10.0.0',
    '010.0.0.1',
    '0x0a.0.0.1',
    '167772161',
    '10.0.0.0/8/8',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/8.0',
    'example.com',
    '::ffff:10.0.0.0/129',
  ])('refuses %j as an address or block', (text) => {
    expect(parseNetwork(text)).toBeUndefined();
  });

  it.each([
    ['10.0.0.0/8', '10.1.2.3', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['10.0.0.0/8', '::ffff:10.0.0.1', true],
    ['10.0.0.0/8', '::ffff:11.0.0.1', false],
    ['::ffff:10.0.0.0/104', '10.0.0.1', true],
    ['::ffff:10.0.0.0/104', '::ffff:10.9.9.9', true],
    ['::/0', '10.0.0.1', true],
    ['2001:db8::/32', '2001:db8::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8::/32', '10.0.0.1', false],
    ['10.0.0.0/8', '2001:db8::1', false],
    ['192.168.1.7', '192.168.1.7', true],
    ['192.168.1.7', '192.168.1.8', false],
    ['10.0.0.0/8', 'not an address', false],
  ])('%s holds %s: %s', (block, address, expected) => {
    const network = parseNetwork(block);
    expect(network).toBeDefined();
    expect(network && networkContains(network, address)).toBe(expected);
  });

  it.each([
    ['10.0.0.1', true],
    ['::ffff:10.0.0.1', true],
    ['fe80::1', true],
    ['10.0.0.1/32', false],
    ['localhost', false],
    ['1.2.3', false],
  ])('tells whether %j is an IP address: %s', (text, expected) => {
    expect(isIpAddress(text)).toBe(expected);
  });
});
