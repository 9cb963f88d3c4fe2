import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

import { abortable } from '../abort.js';
import { StepFailure } from '../step-failure.js';
import { addressRestriction } from './ip-address.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses. Errors with a `code` (`ENOTFOUND`, ...) show it in the step's error. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** The system resolver (`/etc/hosts`, then DNS), as Node's own connections would use it. */
export const systemResolver: HostResolver = async (hostname) => {
  const addresses = await lookup(hostname, { all: true, verbatim: true });
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

export interface SsrfGuardOptions {
  /** Hosts exempt from the address check: names or IPs, matched exactly and case-insensitively. */
  allowedHosts?: readonly string[];
  resolver?: HostResolver;
}

/** A URL whose host passed the check, and the address it was checked at. */
export interface VettedTarget {
  url: URL;
  /** The URL's host in lower case, without brackets or a trailing dot: what the allow-list and TLS SNI see. */
  hostname: string;
  /** The connection must go to this address and no other: resolving the name again could give another. */
  address: string;
  family: 4 | 6;
}

/**
 * Refuses URLs that would reach the service's own network: the host is resolved once, and every address it
 * resolves to must be public (one private address among public ones is enough to refuse, since a client may try
 * any of them). Refusals are `StepFailure('ssrf_blocked')`, which retrying cannot fix.
 */
export class SsrfGuard {
  private readonly allowedHosts: ReadonlySet<string>;
  private readonly resolver: HostResolver;

  constructor(options: SsrfGuardOptions = {}) {
    this.allowedHosts = new Set((options.allowedHosts ?? []).map(normalizeAllowedHost));
    this.resolver = options.resolver ?? systemResolver;
  }

  isAllowed(hostname: string): boolean {
    return this.allowedHosts.has(normalizeHostname(hostname));
  }

  /** `signal` aborts the lookup (its reason is thrown); the lookup itself may go on in the background. */
  async vet(url: URL, signal?: AbortSignal): Promise<VettedTarget> {
    checkUrlShape(url);
    const hostname = normalizeHostname(url.hostname);
    const allowed = this.allowedHosts.has(hostname);
    if (!allowed && isLocalhostName(hostname)) {
      throw blocked(`requests to "${hostname}" are refused: it names this machine (loopback)`);
    }

    let addresses: ResolvedAddress[];
    const family = isIP(hostname);
    if (family !== 0) {
      addresses = [{ address: hostname, family: family === 6 ? 6 : 4 }];
    } else {
      addresses = await abortable(this.resolve(hostname), signal);
    }
    if (!allowed) {
      for (const { address } of addresses) {
        const restriction = addressRestriction(address);
        if (restriction !== null) {
          const at = address === hostname ? '' : ` resolves to ${address}, which`;
          const article = restriction === 'unspecified' || restriction === 'invalid' ? 'an' : 'a';
          throw blocked(`requests to "${hostname}" are refused: it${at} is ${article} ${restriction} address`);
        }
      }
    }
    const [first] = addresses;
    return { url, hostname, address: first.address, family: first.family };
  }

  private async resolve(hostname: string): Promise<ResolvedAddress[]> {
    let addresses: ResolvedAddress[];
    try {
      addresses = await this.resolver(hostname);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const why = typeof code === 'string' ? ` (${code})` : '';
      throw new StepFailure('http_error', `could not resolve "${hostname}"${why}`, true);
    }
    if (addresses.length === 0) throw new StepFailure('http_error', `"${hostname}" has no address`, true);
    return addresses;
  }
}

/**
 * Parses a rendered request URL and refuses what no host check could make safe: other schemes, and credentials,
 * which would end up in logs and error messages. Messages never quote the URL: its path and query may hold secrets.
 */
export function parseRequestUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new StepFailure('http_invalid_url', 'the request URL is not a valid absolute URL');
  }
  checkUrlShape(url);
  return url;
}

function checkUrlShape(url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw blocked(`the request URL must use http: or https:, not ${JSON.stringify(url.protocol)}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw blocked(
      `the request URL to "${normalizeHostname(url.hostname)}" must not contain credentials (user:password@)`,
    );
  }
}

/** Lower case, without IPv6 brackets or the trailing dot of a fully qualified name. */
export function normalizeHostname(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

/** Allow-list entries go through URL parsing too, so that `::1` matches the host of `http://[0:0::1]/`. */
function normalizeAllowedHost(entry: string): string {
  const trimmed = entry.trim();
  const bracketed = trimmed.includes(':') && !trimmed.startsWith('[') ? `[${trimmed}]` : trimmed;
  let url: URL;
  try {
    url = new URL(`http://${bracketed}/`);
  } catch {
    throw new RangeError(`allowedHosts: ${JSON.stringify(entry)} is not a host name or IP address`);
  }
  if (url.port !== '' || url.username !== '' || url.pathname !== '/') {
    throw new RangeError(`allowedHosts: ${JSON.stringify(entry)} must be a bare host name or IP address`);
  }
  return normalizeHostname(url.hostname);
}

/** RFC 6761: `localhost` and every name under it are loopback, whatever a resolver says. */
function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

function blocked(message: string): StepFailure {
  return new StepFailure('ssrf_blocked', message);
}
