import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

import { abortable } from '../abort.util.js';
import { StepFailure } from '../step-failure.error.js';
import { addressRestriction } from './ip-address.parser.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) => {
  const addresses = await lookup(hostname, { all: true, verbatim: true });
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

export interface SsrfGuardOptions {
  /** Matched against the URL's normalised host, never against what it resolves to. */
  allowedHosts?: readonly string[];
  /** hookrun's own PostgreSQL and Redis: only a `host:port` entry naming them opens them. */
  protectedPorts?: readonly number[];
  resolver?: HostResolver;
}

export interface AllowedHost {
  hostname: string;
  port: number | null;
}

interface HostPorts {
  anyPort: boolean;
  ports: Set<number>;
}

export interface VettedTarget {
  url: URL;
  hostname: string;
  /** The connection goes to this address: resolving the name again could give another (DNS rebinding). */
  address: string;
  family: 4 | 6;
}

/** Every address a host resolves to must be public: a client may try any of them. */
export class SsrfGuard {
  private readonly allowedHosts = new Map<string, HostPorts>();
  private readonly protectedPorts: ReadonlySet<number>;
  private readonly resolver: HostResolver;

  constructor(options: SsrfGuardOptions = {}) {
    for (const entry of options.allowedHosts ?? []) {
      let parsed: AllowedHost;
      try {
        parsed = parseAllowedHost(entry);
      } catch (err) {
        throw new RangeError(`allowedHosts: ${(err as Error).message}`, { cause: err });
      }
      const host = this.allowedHosts.get(parsed.hostname) ?? { anyPort: false, ports: new Set<number>() };
      if (parsed.port === null) host.anyPort = true;
      else host.ports.add(parsed.port);
      this.allowedHosts.set(parsed.hostname, host);
    }
    this.protectedPorts = new Set(options.protectedPorts ?? []);
    this.resolver = options.resolver ?? systemResolver;
  }

  isAllowed(hostname: string, port: number): boolean {
    const host = this.allowedHosts.get(normalizeHostname(hostname));
    if (!host) return false;
    return host.ports.has(port) || (host.anyPort && !this.protectedPorts.has(port));
  }

  /** `signal` aborts the lookup (its reason is thrown); the lookup itself may go on in the background. */
  async vet(url: URL, signal?: AbortSignal): Promise<VettedTarget> {
    checkUrlShape(url);
    const hostname = normalizeHostname(url.hostname);
    const port = urlPort(url);
    const allowed = this.isAllowed(hostname, port);
    const why = allowed ? '' : this.whyPortIsClosed(hostname, port);
    if (!allowed && isLocalhostName(hostname)) {
      throw blocked(`requests to "${hostname}" are refused: it names this machine (loopback)${why}`);
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
          throw blocked(`requests to "${hostname}" are refused: it${at} is ${article} ${restriction} address${why}`);
        }
      }
    }
    const [first] = addresses;
    return { url, hostname, address: first.address, family: first.family };
  }

  /** For a listed host refused at this port, what would open it: the step's author sees this in the run. */
  private whyPortIsClosed(hostname: string, port: number): string {
    const host = this.allowedHosts.get(hostname);
    if (!host) return '';
    if (host.anyPort) {
      return ` (port ${port} is hookrun's own PostgreSQL or Redis: only an allow-list entry with this port opens it)`;
    }
    const ports = [...host.ports].sort((a, b) => a - b);
    return ` (the allow-list opens it on port${ports.length > 1 ? 's' : ''} ${ports.join(', ')} only, not ${port})`;
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

/** Messages never quote the URL: its path and query may hold secrets. */
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

function normalizeHostname(hostname: string): string {
  let host = hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

// URL parsing drops a port that is its scheme's default.
function urlPort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** The host goes through URL parsing too, so that `::1` matches `http://[0:0::1]/`. */
export function parseAllowedHost(entry: string): AllowedHost {
  const text = entry.trim();
  const shape = `${JSON.stringify(entry)} must be a host or host:port (IPv6 as [::1] or [::1]:8080)`;
  if (text === '' || /[/?#@\\]/.test(text)) throw new RangeError(shape);
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    const rest = end === -1 ? '' : text.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new RangeError(shape);
      host = text.slice(0, end + 1);
      portText = rest.slice(1);
    }
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 1) [host, portText] = text.split(':');
    // More than one colon without brackets: an IPv6 address, which cannot carry a port that way.
    else if (colons > 1) host = `[${text}]`;
  }

  let port: number | null = null;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) {
      throw new RangeError(`${JSON.stringify(entry)}: the port must be an integer from 1 to 65535`);
    }
  }
  let hostname: string;
  try {
    hostname = new URL(`http://${host}/`).hostname;
  } catch {
    throw new RangeError(`${JSON.stringify(entry)} is not a host name or IP address`);
  }
  return { hostname: normalizeHostname(hostname), port };
}

/** RFC 6761: `localhost` and every name under it are loopback, whatever a resolver says. */
function isLocalhostName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost');
}

function blocked(message: string): StepFailure {
  return new StepFailure('ssrf_blocked', message);
}
