import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Config } from '../config/config.js';

/**
 * Where a feed may be fetched from. A feed URL, or any redirect on the way, must not
 * reach the machine itself or the network behind it (an internal admin page would end up
 * in digests and on the home page), so every target is checked after DNS resolution, at
 * connect time: the address checked is the address connected to, and DNS rebinding cannot
 * switch it between the check and the connection.
 */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  INTERNAL.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4, which embeds any IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const)
  INTERNAL.addSubnet(network, prefix, 'ipv6');
// IPv4-mapped IPv6 (::ffff:127.0.0.1) is matched against the IPv4 ranges by BlockList itself;
// NAT64 (64:ff9b::/96, used by DNS64 for every IPv4-only host) by its embedded address below.
const NAT64 = new BlockList();
NAT64.addSubnet('64:ff9b::', 96, 'ipv6');

/** The IPv4 address in the last 32 bits of an IPv6 one. */
function embeddedIpv4(address: string): string {
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  let words = [...groups(head), ...groups(tail)];
  // A dotted tail (64:ff9b::10.0.0.1) is two words already written as IPv4.
  const dotted = words.at(-1)?.includes('.') ? words.pop() : undefined;
  if (dotted !== undefined) return dotted;
  words = words.slice(-2);
  const value = words.reduce((sum, word) => sum * 0x10000 + parseInt(word, 16), 0);
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

function isInternal(address: string): boolean {
  const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
  if (INTERNAL.check(address, type)) return true;
  return type === 'ipv6' && NAT64.check(address, 'ipv6') && INTERNAL.check(embeddedIpv4(address), 'ipv4');
}

const PROTOCOLS = new Set(['http:', 'https:']);

export const ALLOW_HINT = 'set FETCH_ALLOW_PRIVATE=true, or to that address, to fetch internal feeds';

function allowedRanges(config: Pick<Config, 'fetchAllowPrivate'>): BlockList | undefined {
  if (!Array.isArray(config.fetchAllowPrivate)) return undefined;
  const allowed = new BlockList();
  for (const range of config.fetchAllowPrivate) {
    const [address = '', prefix] = range.split('/');
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) allowed.addAddress(address, type);
    else allowed.addSubnet(address, Number(prefix), type);
  }
  return allowed;
}

/** Decides, for one configuration, which addresses may be fetched from. */
export interface AddressPolicy {
  /** Every address allowed (FETCH_ALLOW_PRIVATE=true). */
  allowsAll: boolean;
  isAllowed(address: string): boolean;
}

export function addressPolicy(config: Pick<Config, 'fetchAllowPrivate'>): AddressPolicy {
  const allowed = allowedRanges(config);
  return {
    allowsAll: config.fetchAllowPrivate === true,
    isAllowed(address) {
      if (config.fetchAllowPrivate === true) return true;
      return !isInternal(address) || allowed?.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6') === true;
    },
  };
}

function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * What is wrong with fetching this URL before any connection: not http(s), or a literal
 * IP address that is internal (a literal is never looked up, so the lookup below cannot
 * see it). Host names are checked by `guardedLookup` when connecting.
 */
export function urlProblem(policy: AddressPolicy, url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `not a URL: ${url}`;
  }
  if (!PROTOCOLS.has(parsed.protocol)) return `only http and https are fetched, not ${parsed.protocol}`;
  const host = hostnameOf(parsed);
  if (isIP(host) !== 0 && !policy.isAllowed(host)) return `${host} is an internal address (${ALLOW_HINT})`;
  return undefined;
}

export class InternalAddressError extends Error {}

/**
 * A dns.lookup for sockets that refuses a name resolving to any internal address: the
 * socket connects to the very address checked here.
 */
export function guardedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const internal = addresses.find((a) => !policy.isAllowed(a.address));
      if (internal !== undefined) {
        return callback(
          new InternalAddressError(`${hostname} resolves to ${internal.address}, an internal address (${ALLOW_HINT})`),
          '',
          0,
        );
      }
      const first = addresses[0];
      if (first === undefined) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if ((options as LookupOneOptions & { all?: boolean }).all)
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * For `feeds add`: the URL and what its name resolves to now. A name that does not
 * resolve at all is left to the fetch to report; only an internal answer is refused.
 */
export async function feedAddressProblem(config: Pick<Config, 'fetchAllowPrivate'>, url: string): Promise<string | undefined> {
  const policy = addressPolicy(config);
  const problem = urlProblem(policy, url);
  if (problem !== undefined || policy.allowsAll) return problem;
  const host = hostnameOf(new URL(url));
  if (isIP(host) !== 0) return undefined;
  return new Promise((resolve) => {
    guardedLookup(policy)(host, { all: true }, (error) => resolve(error instanceof InternalAddressError ? error.message : undefined));
  });
}
