import { describe, expect, it } from '@jest/globals';

import { StepFailure } from '../step-failure.error.js';
import {
  parseAllowedHost,
  parseRequestUrl,
  SsrfGuard,
  systemResolver,
  type HostResolver,
  type ResolvedAddress,
} from './ssrf.guard.js';

/** A resolver with fixed answers, recording the names it was asked for. */
function fakeResolver(answers: Record<string, ResolvedAddress[]>) {
  const asked: string[] = [];
  const resolver: HostResolver = async (hostname) => {
    asked.push(hostname);
    const answer = answers[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answer;
  };
  return { resolver, asked };
}

async function failure(promise: Promise<unknown>): Promise<StepFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StepFailure);
    return err as StepFailure;
  }
  throw new Error('expected a StepFailure');
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });

describe('parseRequestUrl', () => {
  it('parses absolute http and https URLs', () => {
    expect(parseRequestUrl('https://Example.com/a?b=1').href).toBe('https://example.com/a?b=1');
    expect(parseRequestUrl('http://example.com:8080').port).toBe('8080');
  });

  it('refuses what is not an absolute URL, without quoting it', async () => {
    for (const text of ['', '/relative', 'example.com/x?token=s3cret', 'http://exa mple.com/?token=s3cret']) {
      const err = await failure(Promise.resolve().then(() => parseRequestUrl(text)));
      expect(err).toMatchObject({ code: 'http_invalid_url', retryable: false });
      expect(err.message).not.toContain('s3cret');
    }
  });

  it('refuses other schemes and credentials, without quoting the credentials', async () => {
    for (const text of ['ftp://example.com/', 'file:///etc/passwd', 'gopher://127.0.0.1:6379/_', 'data:text/plain,x']) {
      await expect(failure(Promise.resolve().then(() => parseRequestUrl(text)))).resolves.toMatchObject({
        code: 'ssrf_blocked',
        message: expect.stringMatching(/^the request URL must use http: or https:, not "[a-z]+:"$/),
      });
    }
    for (const text of [
      'https://user:s3cret@example.com/',
      'https://s3cret@example.com/',
      'https://:s3cret@example.com/',
    ]) {
      const err = await failure(Promise.resolve().then(() => parseRequestUrl(text)));
      expect(err).toMatchObject({ code: 'ssrf_blocked', retryable: false });
      expect(err.message).toBe('the request URL to "example.com" must not contain credentials (user:password@)');
    }
  });
});

describe('parseAllowedHost', () => {
  it('reads host and host:port entries, normalising the host as URL parsing does', () => {
    const cases: [string, { hostname: string; port: number | null }][] = [
      ['Internal.SVC', { hostname: 'internal.svc', port: null }],
      ['internal.svc.:8443', { hostname: 'internal.svc', port: 8443 }],
      [' 127.0.0.1:6379 ', { hostname: '127.0.0.1', port: 6379 }],
      ['example.com:80', { hostname: 'example.com', port: 80 }],
      ['0x7f.1:8080', { hostname: '127.0.0.1', port: 8080 }],
      ['2130706433', { hostname: '127.0.0.1', port: null }],
      ['[::1]:8080', { hostname: '::1', port: 8080 }],
      ['[0:0::1]', { hostname: '::1', port: null }],
      ['::1', { hostname: '::1', port: null }],
      // Unbracketed, the last group is part of the address, never a port: it opens ::1:8080, not ::1.
      ['::1:8080', { hostname: '::1:8080', port: null }],
    ];
    for (const [entry, expected] of cases)
      expect({ entry, ...parseAllowedHost(entry) }).toEqual({ entry, ...expected });
  });

  it('refuses what is not a host or host:port, saying why', () => {
    const shape = 'must be a host or host:port (IPv6 as [::1] or [::1]:8080)';
    const cases: [string, string][] = [
      ['http://example.com', `"http://example.com" ${shape}`],
      ['example.com/path', `"example.com/path" ${shape}`],
      ['user@example.com', `"user@example.com" ${shape}`],
      ['', `"" ${shape}`],
      ['[::1]8080', `"[::1]8080" ${shape}`],
      ['exa mple.com', '"exa mple.com" is not a host name or IP address'],
      ['[::1', '"[::1" is not a host name or IP address'],
      ['host:80:90', '"host:80:90" is not a host name or IP address'],
      ['localhost:0', '"localhost:0": the port must be an integer from 1 to 65535'],
      ['localhost:65536', '"localhost:65536": the port must be an integer from 1 to 65535'],
      ['localhost:', '"localhost:": the port must be an integer from 1 to 65535'],
      ['localhost:http', '"localhost:http": the port must be an integer from 1 to 65535'],
      ['[::1]:-1', '"[::1]:-1": the port must be an integer from 1 to 65535'],
    ];
    for (const [entry, message] of cases) {
      expect(() => parseAllowedHost(entry)).toThrow(new RangeError(message));
      expect(() => new SsrfGuard({ allowedHosts: [entry] })).toThrow(RangeError);
      expect(() => new SsrfGuard({ allowedHosts: [entry] })).toThrow(`allowedHosts: ${message}`);
    }
  });
});

describe('SsrfGuard.vet', () => {
  const vet = (guard: SsrfGuard, url: string) => guard.vet(parseRequestUrl(url));

  it('refuses private, loopback and link-local IP hosts in every spelling, without resolving them', async () => {
    const cases: [string, string][] = [
      ['http://127.0.0.1/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://2130706433/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://0x7f.1/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://0x7f000001/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://0177.0.0.1/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://127.1/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://127.0.0.1./', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://%31%32%37.0.0.1/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://①②⑦.0.0.1/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://127.0.0.1:6379/', 'requests to "127.0.0.1" are refused: it is a loopback address'],
      ['http://[::1]/', 'requests to "::1" are refused: it is a loopback address'],
      ['http://[0:0:0:0:0:0:0:1]/', 'requests to "::1" are refused: it is a loopback address'],
      ['http://[::ffff:127.0.0.1]/', 'requests to "::ffff:7f00:1" are refused: it is a loopback address'],
      ['http://[::ffff:7f00:1]/', 'requests to "::ffff:7f00:1" are refused: it is a loopback address'],
      ['http://[::127.0.0.1]/', 'requests to "::7f00:1" are refused: it is a loopback address'],
      ['http://[64:ff9b::127.0.0.1]/', 'requests to "64:ff9b::7f00:1" are refused: it is a loopback address'],
      ['http://[2002:7f00:1::]/', 'requests to "2002:7f00:1::" are refused: it is a loopback address'],
      ['http://0/', 'requests to "0.0.0.0" are refused: it is an unspecified address'],
      ['http://0.0.0.0:8080/', 'requests to "0.0.0.0" are refused: it is an unspecified address'],
      ['http://[::]/', 'requests to "::" are refused: it is an unspecified address'],
      [
        'http://169.254.169.254/latest/meta-data/',
        'requests to "169.254.169.254" are refused: it is a link-local address',
      ],
      ['http://[::ffff:169.254.169.254]/', 'requests to "::ffff:a9fe:a9fe" are refused: it is a link-local address'],
      ['http://[fe80::1]/', 'requests to "fe80::1" are refused: it is a link-local address'],
      ['http://10.0.0.1/', 'requests to "10.0.0.1" are refused: it is a private address'],
      ['http://172.16.0.1/', 'requests to "172.16.0.1" are refused: it is a private address'],
      ['http://192.168.0.1/', 'requests to "192.168.0.1" are refused: it is a private address'],
      ['http://100.64.0.1/', 'requests to "100.64.0.1" are refused: it is a carrier-grade-nat address'],
      ['http://[fd00::1]/', 'requests to "fd00::1" are refused: it is a unique-local address'],
      ['http://224.0.0.1/', 'requests to "224.0.0.1" are refused: it is a multicast address'],
      ['http://255.255.255.255/', 'requests to "255.255.255.255" are refused: it is a broadcast address'],
      ['http://240.0.0.1/', 'requests to "240.0.0.1" are refused: it is a reserved address'],
    ];
    const { resolver, asked } = fakeResolver({});
    const guard = new SsrfGuard({ resolver });

    for (const [url, message] of cases) {
      const err = await failure(vet(guard, url));
      expect({ url, code: err.code, message: err.message, retryable: err.retryable }).toEqual({
        url,
        code: 'ssrf_blocked',
        message,
        retryable: false,
      });
    }
    expect(asked).toEqual([]);
  });

  it('refuses localhost names in any case, with a trailing dot and below .localhost, without resolving them', async () => {
    const { resolver, asked } = fakeResolver({ localhost: [v4('203.0.113.9')] });
    const guard = new SsrfGuard({ resolver });

    for (const [url, host] of [
      ['http://localhost/', 'localhost'],
      ['http://LOCALHOST:3000/', 'localhost'],
      ['http://localhost./', 'localhost'],
      ['http://api.localhost/', 'api.localhost'],
    ]) {
      await expect(failure(vet(guard, url))).resolves.toMatchObject({
        code: 'ssrf_blocked',
        message: `requests to "${host}" are refused: it names this machine (loopback)`,
      });
    }
    expect(asked).toEqual([]);
  });

  it('refuses a name when any address it resolves to is not public, naming host and address only', async () => {
    const { resolver, asked } = fakeResolver({
      'metadata.example': [v4('169.254.169.254')],
      'mixed.example': [v4('93.184.215.14'), v4('10.1.2.3')],
      'mapped.example': [v6('::ffff:127.0.0.1')],
      'nat64.example': [v6('64:ff9b::a9fe:a9fe')],
      'ula.example': [v4('93.184.215.14'), v6('fd12::1')],
      'junk.example': [v4('not-an-address')],
    });
    const guard = new SsrfGuard({ resolver });

    const refusals = await Promise.all(
      ['metadata', 'mixed', 'mapped', 'nat64', 'ula', 'junk'].map((name) =>
        failure(vet(guard, `https://${name}.example/path?token=s3cret`)),
      ),
    );

    expect(refusals.map((err) => [err.code, err.message])).toEqual([
      [
        'ssrf_blocked',
        'requests to "metadata.example" are refused: it resolves to 169.254.169.254, which is a link-local address',
      ],
      ['ssrf_blocked', 'requests to "mixed.example" are refused: it resolves to 10.1.2.3, which is a private address'],
      [
        'ssrf_blocked',
        'requests to "mapped.example" are refused: it resolves to ::ffff:127.0.0.1, which is a loopback address',
      ],
      [
        'ssrf_blocked',
        'requests to "nat64.example" are refused: it resolves to 64:ff9b::a9fe:a9fe, which is a link-local address',
      ],
      [
        'ssrf_blocked',
        'requests to "ula.example" are refused: it resolves to fd12::1, which is a unique-local address',
      ],
      [
        'ssrf_blocked',
        'requests to "junk.example" are refused: it resolves to not-an-address, which is an invalid address',
      ],
    ]);
    expect(asked).toEqual([
      'metadata.example',
      'mixed.example',
      'mapped.example',
      'nat64.example',
      'ula.example',
      'junk.example',
    ]);
  });

  it('returns the first address of a public name, to connect to it and nowhere else', async () => {
    const { resolver, asked } = fakeResolver({
      'hooks.example.com': [v6('2606:4700::6810:84e5'), v4('93.184.215.14')],
    });
    const guard = new SsrfGuard({ resolver });

    const target = await vet(guard, 'https://Hooks.Example.COM./deals');

    expect(target).toMatchObject({ hostname: 'hooks.example.com', address: '2606:4700::6810:84e5', family: 6 });
    expect(target.url.href).toBe('https://hooks.example.com./deals');
    expect(asked).toEqual(['hooks.example.com']);
    await expect(vet(guard, 'http://8.8.8.8/')).resolves.toMatchObject({ hostname: '8.8.8.8', address: '8.8.8.8' });
  });

  it('exempts allowed hosts, matched exactly and case-insensitively, still connecting to the address resolved', async () => {
    const { resolver } = fakeResolver({
      'internal.svc': [v4('10.0.0.5')],
      'sub.internal.svc': [v4('10.0.0.6')],
      localhost: [v4('127.0.0.1')],
    });
    const guard = new SsrfGuard({
      resolver,
      allowedHosts: ['127.0.0.1', 'Internal.SVC', 'localhost.', '::1', '[fd00::7]'],
    });

    await expect(vet(guard, 'http://127.0.0.1:8080/')).resolves.toMatchObject({ address: '127.0.0.1', family: 4 });
    await expect(vet(guard, 'http://2130706433:8080/')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(vet(guard, 'http://internal.svc/')).resolves.toMatchObject({ address: '10.0.0.5' });
    await expect(vet(guard, 'http://INTERNAL.svc./')).resolves.toMatchObject({ address: '10.0.0.5' });
    await expect(vet(guard, 'http://localhost:3000/')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(vet(guard, 'http://[0:0::1]/')).resolves.toMatchObject({ address: '::1', family: 6 });
    await expect(vet(guard, 'http://[fd00::7]/')).resolves.toMatchObject({ address: 'fd00::7', family: 6 });
    await expect(failure(vet(guard, 'http://sub.internal.svc/'))).resolves.toMatchObject({ code: 'ssrf_blocked' });
    await expect(failure(vet(guard, 'http://127.0.0.2/'))).resolves.toMatchObject({ code: 'ssrf_blocked' });
    expect(guard.isAllowed('[::1]', 80)).toBe(true);
    expect(guard.isAllowed('internal.svc.', 443)).toBe(true);
  });

  it('opens only the port of a host:port entry, taking 80 and 443 for URLs without one', async () => {
    const { resolver } = fakeResolver({
      'internal.svc': [v4('10.0.0.5')],
      'plain.svc': [v4('10.0.0.6')],
      localhost: [v4('127.0.0.1')],
    });
    const guard = new SsrfGuard({
      resolver,
      allowedHosts: [
        '127.0.0.1:8080',
        'internal.svc:443',
        'plain.svc:80',
        '[::1]:8080',
        '[::1]:9000',
        'localhost:3000',
      ],
    });

    for (const url of [
      'http://127.0.0.1:8080/',
      'https://internal.svc/',
      'https://internal.svc:443/',
      'http://plain.svc/',
      'http://plain.svc:80/',
      'http://[::1]:8080/',
      'http://[0:0::1]:8080/',
      'http://localhost:3000/',
    ]) {
      await expect(vet(guard, url)).resolves.toMatchObject({ url: { href: new URL(url).href } });
    }
    const refusals: [string, string][] = [
      [
        'http://127.0.0.1:8081/',
        'requests to "127.0.0.1" are refused: it is a loopback address (the allow-list opens it on port 8080 only, not 8081)',
      ],
      ['http://127.0.0.1/', 'the allow-list opens it on port 8080 only, not 80'],
      ['http://internal.svc/', 'resolves to 10.0.0.5, which is a private address (the allow-list opens it on port 443'],
      ['https://plain.svc/', 'the allow-list opens it on port 80 only, not 443'],
      [
        'http://[::1]:8081/',
        'requests to "::1" are refused: it is a loopback address (the allow-list opens it on ports 8080, 9000 only, not 8081)',
      ],
      ['http://[::1]/', 'not 80'],
      ['http://localhost:3001/', 'requests to "localhost" are refused: it names this machine (loopback) (the allow-'],
    ];
    for (const [url, message] of refusals) {
      const err = await failure(vet(guard, url));
      expect({ url, code: err.code, message: err.message }).toEqual({
        url,
        code: 'ssrf_blocked',
        message: expect.stringContaining(message),
      });
    }
  });

  it('matches numeric IPv4 spellings as the address they normalise to, at the entry port only', async () => {
    const { resolver, asked } = fakeResolver({});
    const guard = new SsrfGuard({ resolver, allowedHosts: ['127.0.0.1:8080'] });

    for (const host of ['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '0x7f000001']) {
      await expect(vet(guard, `http://${host}:8080/`)).resolves.toMatchObject({ address: '127.0.0.1' });
      for (const port of [6379, 5432, 8081]) {
        await expect(failure(vet(guard, `http://${host}:${port}/`))).resolves.toMatchObject({
          code: 'ssrf_blocked',
          message: `requests to "127.0.0.1" are refused: it is a loopback address (the allow-list opens it on port 8080 only, not ${port})`,
        });
      }
    }
    expect(asked).toEqual([]);
  });

  it("keeps the protected ports (hookrun's PostgreSQL and Redis) of a bare host closed, however it is spelled", async () => {
    const { resolver, asked } = fakeResolver({
      'db.internal': [v4('10.0.0.7')],
      'public.example': [v4('93.184.215.14')],
    });
    const options = { resolver, protectedPorts: [5432, 6379] };
    const guard = new SsrfGuard({ ...options, allowedHosts: ['127.0.0.1', 'localhost', '::1', 'db.internal'] });

    await expect(vet(guard, 'http://127.0.0.1:8080/')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(vet(guard, 'http://127.1/')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(vet(guard, 'http://db.internal:8080/')).resolves.toMatchObject({ address: '10.0.0.7' });
    const own = (port: number) =>
      ` (port ${port} is hookrun's own PostgreSQL or Redis: only an allow-list entry with this port opens it)`;
    const loopback = 'requests to "127.0.0.1" are refused: it is a loopback address';
    const cases: [string, string][] = [
      ['http://127.0.0.1:6379/', loopback + own(6379)],
      ['http://127.0.0.1:5432/', loopback + own(5432)],
      ['http://2130706433:6379/', loopback + own(6379)],
      ['http://0x7f.1:5432/', loopback + own(5432)],
      ['http://0177.0.0.1:6379/', loopback + own(6379)],
      ['http://127.1:5432/', loopback + own(5432)],
      ['http://[::1]:6379/', 'requests to "::1" are refused: it is a loopback address' + own(6379)],
      ['http://localhost:5432/', 'requests to "localhost" are refused: it names this machine (loopback)' + own(5432)],
      [
        'http://db.internal:5432/',
        'requests to "db.internal" are refused: it resolves to 10.0.0.7, which is a private address' + own(5432),
      ],
      // Not the listed host at all, at any port.
      ['http://[::ffff:127.0.0.1]:6379/', 'requests to "::ffff:7f00:1" are refused: it is a loopback address'],
    ];
    for (const [url, message] of cases) {
      const err = await failure(vet(guard, url));
      expect({ url, code: err.code, message: err.message }).toEqual({ url, code: 'ssrf_blocked', message });
    }
    // Only the allow-list is narrowed: a public address is not hookrun's own service, whatever its port.
    await expect(vet(guard, 'http://public.example:5432/')).resolves.toMatchObject({ address: '93.184.215.14' });
    expect(asked).toEqual(['db.internal', 'db.internal', 'public.example']);

    // Listed with its port, a protected port opens, and only that one.
    const opened = new SsrfGuard({ ...options, allowedHosts: ['127.0.0.1', '127.0.0.1:6379'] });
    await expect(vet(opened, 'http://2130706433:6379/')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(failure(vet(opened, 'http://127.0.0.1:5432/'))).resolves.toMatchObject({ code: 'ssrf_blocked' });
    expect(opened.isAllowed('127.0.0.1', 6379)).toBe(true);
    expect(opened.isAllowed('127.0.0.1', 5432)).toBe(false);
    expect(opened.isAllowed('127.0.0.1', 80)).toBe(true);
  });

  it('fails with a retryable http_error when the name does not resolve', async () => {
    const { resolver } = fakeResolver({ 'empty.example': [] });
    const guard = new SsrfGuard({ resolver });

    await expect(failure(vet(guard, 'https://nowhere.example/'))).resolves.toMatchObject({
      code: 'http_error',
      message: 'could not resolve "nowhere.example" (ENOTFOUND)',
      retryable: true,
    });
    await expect(failure(vet(guard, 'https://empty.example/'))).resolves.toMatchObject({
      code: 'http_error',
      message: '"empty.example" has no address',
      retryable: true,
    });
  });

  it("stops waiting for the resolver when the signal aborts, with the signal's reason", async () => {
    let asked!: () => void;
    const resolving = new Promise<void>((resolve) => (asked = resolve));
    const guard = new SsrfGuard({
      resolver: () => {
        asked();
        return new Promise<never>(() => {});
      },
    });
    const controller = new AbortController();

    const vetting = guard.vet(parseRequestUrl('https://slow.example/'), controller.signal);
    await resolving;
    controller.abort(new StepFailure('http_timeout', 'too slow', true));

    await expect(vetting).rejects.toMatchObject({ code: 'http_timeout', message: 'too slow' });
  });

  it('with the system resolver, refuses a name that resolves to loopback unless allowed', async () => {
    const addresses = await systemResolver('localhost');
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every(({ address }) => address === '127.0.0.1' || address === '::1')).toBe(true);

    const allowed = await new SsrfGuard({ allowedHosts: ['localhost'] }).vet(parseRequestUrl('http://localhost/'));
    expect(['127.0.0.1', '::1']).toContain(allowed.address);
    await expect(failure(new SsrfGuard().vet(parseRequestUrl('http://localhost/')))).resolves.toMatchObject({
      code: 'ssrf_blocked',
    });
  });
});
