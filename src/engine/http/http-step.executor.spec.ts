import { afterAll, afterEach, describe, expect, it, jest } from '@jest/globals';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

import { ExpressionEvaluator } from '../expression.evaluator.js';
import { WorkflowEngine, type EngineHooks, type RunParams, type StepResult } from '../workflow.engine.js';
import { StepFailure } from '../step-failure.error.js';
import { validateDefinition } from '../definition.validator.js';
import { HttpStepExecutor, type HttpStepOptions } from './http-step.executor.js';
import type { HostResolver } from './ssrf.guard.js';

interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest) => void;

interface TestServer {
  origin: string;
  port: number;
  requests: ReceivedRequest[];
}

const servers: ReturnType<typeof createServer>[] = [];
/** The url, header and body expressions take microseconds: a limit this wide is never hit on a busy machine. */
const evaluator = new ExpressionEvaluator({ timeoutMs: 30_000 });
afterAll(() => evaluator.close());

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

/** A server on the loopback interface that records what it receives; `handler` answers. */
async function startServer(handler: Handler): Promise<TestServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(received);
      handler(req, res, received);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, port, requests };
}

function answer(status: number, body = '', headers: Record<string, string | string[]> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

const RUN = { id: 'run-1', workflowId: 'wf-1', trigger: { type: 'api' } };

function setup(http: HttpStepOptions = { allowedHosts: ['127.0.0.1'] }, sleep?: (ms: number) => Promise<void>) {
  const sleeps: number[] = [];
  const results: StepResult[] = [];
  const engine = new WorkflowEngine(evaluator, {
    sleep:
      sleep ??
      (async (ms) => {
        sleeps.push(ms);
      }),
    random: () => 0.5,
    http,
  });
  const hooks: EngineHooks = {
    onStepFinished: async (result) => {
      results.push(result);
    },
  };
  const run = (step: Record<string, unknown>, params: Partial<RunParams> = {}) =>
    engine.run(
      validateDefinition({ steps: [{ id: 'call', type: 'http', ...step }] }),
      { input: { companyId: 'c 1', score: 3 }, run: RUN, ...params },
      hooks,
    );
  return { run, results, sleeps };
}

const get = (url: string, extra: Record<string, unknown> = {}) => ({ request: { method: 'GET', url }, ...extra });

describe('http steps', () => {
  it('sends the rendered request with JSON body, Idempotency-Key and user-agent, and outputs the answer', async () => {
    const server = await startServer(
      answer(201, '{"id":"d1","ok":true}', { 'Content-Type': 'application/json', 'X-Trace': 't1' }),
    );
    const { run } = setup();

    const outcome = await run({
      request: {
        method: 'POST',
        url: `${server.origin}/deals/{{ $encodeUrlComponent(input.companyId) }}?score={{ input.score }}`,
        headers: { 'X-Source': 'hookrun', 'x-score': '{{ input.score * 2 }}' },
        body: "{ 'company': input.companyId, 'score': input.score }",
      },
    });

    expect(outcome).toEqual({
      status: 'completed',
      output: {
        status: 201,
        headers: expect.objectContaining({ 'content-type': 'application/json', 'x-trace': 't1' }),
        body: { id: 'd1', ok: true },
      },
    });
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request).toMatchObject({ method: 'POST', url: '/deals/c%201?score=3' });
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'hookrun',
      'idempotency-key': 'run-1:call',
      'x-source': 'hookrun',
      'x-score': '6',
      host: `127.0.0.1:${server.port}`,
    });
    expect(JSON.parse(request.body)).toEqual({ company: 'c 1', score: 3 });
  });

  it('keeps a content-type and user-agent that the step sets, and sends null when the body has no value', async () => {
    const server = await startServer(answer(200));
    const { run } = setup();

    await run({
      request: {
        method: 'PUT',
        url: `${server.origin}/x`,
        headers: { 'Content-Type': 'application/vnd.api+json', 'User-Agent': 'custom/1' },
        body: 'input.missing',
      },
    });

    expect(server.requests[0].headers).toMatchObject({
      'content-type': 'application/vnd.api+json',
      'user-agent': 'custom/1',
      'idempotency-key': 'run-1:call',
    });
    expect(server.requests[0].body).toBe('null');
  });

  it('sends no body and no content-type without a body expression', async () => {
    const server = await startServer(answer(200));
    const { run } = setup();

    await run({ request: { method: 'DELETE', url: `${server.origin}/x` } });

    expect(server.requests[0]).toMatchObject({ method: 'DELETE', body: '' });
    expect(server.requests[0].headers['content-type']).toBeUndefined();
  });

  it('parses JSON content types, keeps other bodies as text, and gives null for an empty body', async () => {
    const server = await startServer((req, res) => {
      const bodies: Record<string, [string, string]> = {
        '/problem': ['application/problem+json; charset=utf-8', '{"title":"nope"}'],
        '/text': ['text/plain; charset=utf-8', 'plain text ✓'],
        '/html': ['text/html', '<p>{"not":"json"}</p>'],
        '/broken-json': ['application/json', '{"unterminated'],
        '/latin1': ['text/plain; charset=iso-8859-1', '\u00e9t\u00e9'],
        '/empty-json': ['application/json', ''],
      };
      const [type, body] = bodies[req.url ?? ''];
      res.writeHead(200, { 'content-type': type });
      res.end(type.includes('8859-1') ? Buffer.from(body, 'latin1') : body);
    });
    const { run } = setup();
    const bodyOf = async (path: string, method = 'GET') => {
      const outcome = await run(
        get(`${server.origin}${path}`, { request: { method, url: `${server.origin}${path}` } }),
      );
      return outcome.status === 'completed' ? (outcome.output as { body: unknown }).body : outcome;
    };

    await expect(bodyOf('/problem')).resolves.toEqual({ title: 'nope' });
    await expect(bodyOf('/text')).resolves.toBe('plain text ✓');
    await expect(bodyOf('/html')).resolves.toBe('<p>{"not":"json"}</p>');
    await expect(bodyOf('/broken-json')).resolves.toBe('{"unterminated');
    await expect(bodyOf('/latin1')).resolves.toBe('été');
    await expect(bodyOf('/empty-json')).resolves.toBeNull();
    await expect(bodyOf('/problem', 'HEAD')).resolves.toBeNull();
  });

  it('joins repeated response headers and decodes gzip bodies', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, {
        'set-cookie': ['a=1', 'b=2'],
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      res.end(gzipSync(JSON.stringify({ zipped: true })));
    });
    const { run } = setup();

    const outcome = await run(get(`${server.origin}/`));

    expect(outcome).toMatchObject({
      status: 'completed',
      output: { headers: { 'set-cookie': 'a=1, b=2', 'content-encoding': 'gzip' }, body: { zipped: true } },
    });
  });

  describe('statuses', () => {
    it('fails at once on a 4xx that okStatuses does not list, whatever the retry policy', async () => {
      const server = await startServer(answer(404, 'no such deal'));
      const { run, results, sleeps } = setup();

      const outcome = await run(get(`${server.origin}/deals/1`, { retry: { maxAttempts: 5, backoffMs: 100 } }));

      expect(outcome).toEqual({
        status: 'failed',
        error: {
          code: 'http_status',
          message: `GET 127.0.0.1:${server.port} answered with status 404`,
          stepId: 'call',
        },
      });
      expect(server.requests).toHaveLength(1);
      expect(sleeps).toEqual([]);
      expect(results[0]).toMatchObject({ status: 'failed', attempts: 1 });
    });

    it('completes with a non-2xx status that okStatuses lists', async () => {
      const server = await startServer(answer(404, '{"error":"missing"}', { 'content-type': 'application/json' }));
      const { run } = setup();

      await expect(run(get(`${server.origin}/`, { okStatuses: [404, 409] }))).resolves.toMatchObject({
        status: 'completed',
        output: { status: 404, body: { error: 'missing' } },
      });
    });

    it('retries 5xx, 429 and 408 with backoff, sending the same Idempotency-Key each time', async () => {
      const statuses = [503, 429, 408, 500, 200];
      const server = await startServer((_req, res) => {
        res.writeHead(statuses.shift() ?? 500, { 'content-type': 'text/plain' });
        res.end('done');
      });
      const { run, results, sleeps } = setup();

      const outcome = await run(get(`${server.origin}/`, { retry: { maxAttempts: 5, backoffMs: 100 } }));

      expect(outcome).toMatchObject({ status: 'completed', output: { status: 200, body: 'done' } });
      expect(server.requests).toHaveLength(5);
      expect(new Set(server.requests.map((request) => request.headers['idempotency-key']))).toEqual(
        new Set(['run-1:call']),
      );
      expect(sleeps).toEqual([50, 100, 200, 400]);
      expect(results[0]).toMatchObject({ status: 'completed', attempts: 5 });
    });

    it('retries with the default backoff (1000 ms, full jitter) when the policy gives only maxAttempts', async () => {
      const statuses = [503, 503, 200];
      const server = await startServer((_req, res) => {
        res.writeHead(statuses.shift() ?? 500);
        res.end();
      });
      const { run, sleeps } = setup();

      const outcome = await run(get(`${server.origin}/`, { retry: { maxAttempts: 3 } }));

      expect(outcome).toMatchObject({ status: 'completed', output: { status: 200 } });
      expect(server.requests).toHaveLength(3);
      // random() is 0.5: half of 1000 ms, then half of 2000 ms.
      expect(sleeps).toEqual([500, 1000]);
    });

    it('fails with the last status once the attempts are used up', async () => {
      const server = await startServer(answer(502));
      const { run, results } = setup();

      const outcome = await run(get(`${server.origin}/`, { retry: { maxAttempts: 3, backoffMs: 10 } }));

      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'http_status', stepId: 'call' } });
      expect(server.requests).toHaveLength(3);
      expect(results[0]).toMatchObject({ status: 'failed', attempts: 3 });
    });

    it('does not follow redirects: a 3xx fails the step unless listed, and its target gets no request', async () => {
      const target = await startServer(answer(200));
      const server = await startServer(answer(302, '', { location: `http://localhost:${target.port}/internal` }));
      const { run } = setup({ allowedHosts: ['127.0.0.1'] });

      await expect(run(get(`${server.origin}/`, { retry: { maxAttempts: 3, backoffMs: 1 } }))).resolves.toMatchObject({
        status: 'failed',
        error: { code: 'http_status', message: `GET 127.0.0.1:${server.port} answered with status 302` },
      });
      await expect(run(get(`${server.origin}/`, { okStatuses: [302] }))).resolves.toMatchObject({
        status: 'completed',
        output: { status: 302, headers: { location: `http://localhost:${target.port}/internal` }, body: null },
      });
      expect(server.requests).toHaveLength(2);
      expect(target.requests).toHaveLength(0);
    });
  });

  describe('SSRF protection', () => {
    it('refuses 127.0.0.1 unless allowed, without sending anything or retrying', async () => {
      const server = await startServer(answer(200));
      const { run, sleeps } = setup({});

      const outcome = await run(
        get(`${server.origin}/admin?token=s3cret`, { retry: { maxAttempts: 3, backoffMs: 10 } }),
      );

      expect(outcome).toEqual({
        status: 'failed',
        error: {
          code: 'ssrf_blocked',
          message: 'requests to "127.0.0.1" are refused: it is a loopback address',
          stepId: 'call',
        },
      });
      expect(server.requests).toHaveLength(0);
      expect(sleeps).toEqual([]);
      await expect(setup({ allowedHosts: ['127.0.0.1'] }).run(get(`${server.origin}/`))).resolves.toMatchObject({
        status: 'completed',
      });
    });

    it('refuses odd spellings of loopback in a rendered URL', async () => {
      const server = await startServer(answer(200));
      const { run } = setup({});

      for (const host of ['2130706433', '0x7f.1', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', 'localhost.']) {
        await expect(run(get(`http://{{ input.host }}:${server.port}/`), { input: { host } })).resolves.toMatchObject({
          status: 'failed',
          error: { code: 'ssrf_blocked' },
        });
      }
      expect(server.requests).toHaveLength(0);
    });

    it('connects to the address it checked, with the original name as Host', async () => {
      const server = await startServer(answer(200));
      let lookups = 0;
      const resolver: HostResolver = async (hostname) => {
        lookups++;
        if (hostname !== 'hooks.test') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
        return [{ address: '127.0.0.1', family: 4 }];
      };

      const allowed = setup({ allowedHosts: ['hooks.test'], resolver });
      await expect(allowed.run(get(`http://hooks.test:${server.port}/pinned`))).resolves.toMatchObject({
        status: 'completed',
      });
      expect(server.requests[0]).toMatchObject({ url: '/pinned', headers: { host: `hooks.test:${server.port}` } });
      expect(lookups).toBe(1);

      await expect(setup({ resolver }).run(get(`http://hooks.test:${server.port}/`))).resolves.toMatchObject({
        status: 'failed',
        error: {
          code: 'ssrf_blocked',
          message: 'requests to "hooks.test" are refused: it resolves to 127.0.0.1, which is a loopback address',
        },
      });
      expect(server.requests).toHaveLength(1);
    });

    it('refuses rendered URLs with another scheme or credentials, and fails on URLs that do not parse', async () => {
      const { run } = setup();

      await expect(run(get('{{ input.url }}'), { input: { url: 'file:///etc/passwd' } })).resolves.toMatchObject({
        status: 'failed',
        error: { code: 'ssrf_blocked' },
      });
      const credentials = await run(get('{{ input.url }}'), { input: { url: 'http://admin:s3cret@127.0.0.1/' } });
      expect(credentials).toMatchObject({ status: 'failed', error: { code: 'ssrf_blocked' } });
      expect(JSON.stringify(credentials)).not.toContain('s3cret');
      await expect(run(get('{{ input.url }}'), { input: { url: 'not a url' } })).resolves.toMatchObject({
        status: 'failed',
        error: { code: 'http_invalid_url' },
      });
    });
  });

  describe('failures of the exchange', () => {
    it('fails with a retryable http_timeout when an attempt passes timeoutMs', async () => {
      // The test's clock: each attempt runs out of time once its request has arrived, never before, however
      // slow the machine. Only timers are faked; sockets and the dates of the engine run as usual.
      jest.useFakeTimers({
        doNotFake: ['Date', 'hrtime', 'performance', 'nextTick', 'queueMicrotask', 'setImmediate'],
      });
      const server = await startServer(() => {
        // Never answers: the attempt's time runs out.
        jest.advanceTimersByTime(50);
      });
      const { run, results } = setup();

      const outcome = await run(
        get(`${server.origin}/slow`, { timeoutMs: 50, retry: { maxAttempts: 2, backoffMs: 1 } }),
      ).finally(() => jest.useRealTimers());

      expect(outcome).toEqual({
        status: 'failed',
        error: {
          code: 'http_timeout',
          message: `GET 127.0.0.1:${server.port} did not answer within 50 ms`,
          stepId: 'call',
        },
      });
      expect(results[0]).toMatchObject({ attempts: 2 });
      expect(server.requests).toHaveLength(2);
    });

    it('fails with a retryable http_error when the connection is refused', async () => {
      const server = await startServer(answer(200));
      const port = server.port;
      await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
      const { run, results } = setup();

      const outcome = await run(get(`http://127.0.0.1:${port}/`, { retry: { maxAttempts: 2, backoffMs: 1 } }));

      expect(outcome).toEqual({
        status: 'failed',
        error: { code: 'http_error', message: `GET 127.0.0.1:${port} failed: ECONNREFUSED`, stepId: 'call' },
      });
      expect(results[0]).toMatchObject({ attempts: 2 });
    });

    it('fails with http_response_too_large past maxResponseBytes, declared, streamed or compressed', async () => {
      const big = 'x'.repeat(2048);
      const server = await startServer((req, res) => {
        if (req.url === '/declared') {
          res.writeHead(200, { 'content-length': String(big.length) });
          res.end(big);
        } else if (req.url === '/chunked') {
          res.writeHead(200);
          res.write(big.slice(0, 1000));
          res.end(big.slice(1000));
        } else {
          res.writeHead(200, { 'content-encoding': 'gzip' });
          res.end(gzipSync(Buffer.alloc(1_000_000)));
        }
      });
      const { run, sleeps } = setup({ allowedHosts: ['127.0.0.1'], maxResponseBytes: 1024 });

      for (const path of ['/declared', '/chunked', '/bomb']) {
        await expect(run(get(`${server.origin}${path}`, { retry: { maxAttempts: 3, backoffMs: 1 } }))).resolves.toEqual(
          {
            status: 'failed',
            error: {
              code: 'http_response_too_large',
              message: `GET 127.0.0.1:${server.port} answered with a body larger than 1024 bytes`,
              stepId: 'call',
            },
          },
        );
      }
      expect(sleeps).toEqual([]);
    });

    it('fails with http_invalid_header when a rendered header value holds a line break, without showing it', async () => {
      const server = await startServer(answer(200));
      const { run } = setup();

      const outcome = await run(
        { request: { method: 'GET', url: `${server.origin}/`, headers: { 'x-name': '{{ input.name }}' } } },
        { input: { name: 'ada\r\nx-admin: true' } },
      );

      expect(outcome).toMatchObject({ status: 'failed', error: { code: 'http_invalid_header' } });
      expect(JSON.stringify(outcome)).not.toContain('x-admin');
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('cancellation', () => {
    it('aborts the request in flight when the signal fires, and the run ends as cancelled', async () => {
      const controller = new AbortController();
      const server = await startServer(() => controller.abort());
      const { run, results } = setup();

      const outcome = await run(get(`${server.origin}/slow`, { retry: { maxAttempts: 3, backoffMs: 1 } }), {
        signal: controller.signal,
      });

      expect(outcome).toEqual({ status: 'cancelled' });
      expect(server.requests).toHaveLength(1);
      expect(results).toEqual([
        expect.objectContaining({
          stepId: 'call',
          status: 'failed',
          attempts: 1,
          error: expect.objectContaining({ code: 'cancelled' }),
        }),
      ]);
    });

    it('stops waiting for a retry backoff when the signal fires', async () => {
      const controller = new AbortController();
      const server = await startServer(answer(503));
      const { run } = setup({ allowedHosts: ['127.0.0.1'] }, () => {
        controller.abort();
        return new Promise<void>(() => {});
      });

      const outcome = await run(get(`${server.origin}/`, { retry: { maxAttempts: 5, backoffMs: 60_000 } }), {
        signal: controller.signal,
      });

      expect(outcome).toEqual({ status: 'cancelled' });
      expect(server.requests).toHaveLength(1);
    });

    it('sends nothing when the signal fires while the expressions are evaluated', async () => {
      const server = await startServer(answer(200));
      const controller = new AbortController();
      class AbortingEvaluator extends ExpressionEvaluator {
        override async renderTemplate(template: string, context: object): Promise<string> {
          controller.abort();
          return super.renderTemplate(template, context);
        }
      }
      const executor = new HttpStepExecutor({ allowedHosts: ['127.0.0.1'] });
      const step = validateDefinition({ steps: [{ id: 'call', type: 'http', ...get(`${server.origin}/`) }] }).steps[0];
      if (step.type !== 'http') throw new Error('expected an http step');
      const context = { input: {}, steps: {}, run: RUN };

      const aborting = new AbortingEvaluator({ timeoutMs: 30_000 });

      const attempt = executor.execute(step, { evaluator: aborting, context, signal: controller.signal });

      await expect(attempt).rejects.toBeInstanceOf(StepFailure);
      await expect(attempt).rejects.toMatchObject({ code: 'cancelled', retryable: false });
      expect(server.requests).toHaveLength(0);
      await aborting.close();
    });

    it('sends nothing when the signal has already fired', async () => {
      const server = await startServer(answer(200));
      const { run, results } = setup();

      const outcome = await run(get(`${server.origin}/`), { signal: AbortSignal.abort() });

      expect(outcome).toEqual({ status: 'cancelled' });
      expect(server.requests).toHaveLength(0);
      expect(results).toEqual([]);
    });
  });
});

describe('http steps with secrets', () => {
  const TOKEN = 'tok_9c1e"7/ab';
  const source = (values: Record<string, string>) => ({
    asked: [] as string[][],
    resolve(names: readonly string[]) {
      this.asked.push([...names]);
      return Promise.resolve(new Map(Object.entries(values).filter(([name]) => names.includes(name))));
    },
  });
  const echo: Handler = (_req, res, received) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-auth': String(received.headers.authorization) });
    res.end(JSON.stringify({ url: received.url, body: received.body, auth: received.headers.authorization }));
  };
  const request = (origin: string) => ({
    request: {
      method: 'POST',
      url: `${origin}/echo?k={{ $encodeUrlComponent(secrets.TOKEN) }}`,
      headers: { authorization: 'Basic {{ $base64encode("u:" & secrets.TOKEN) }}' },
      body: "{ 'token': $secret('TOKEN') }",
    },
  });

  // Inline and in the evaluation threads: the values travel with the context, and `$secret` works in both.
  it.each([true, false])('sends the values and stores the answer redacted (inline: %s)', async (inline) => {
    const server = await startServer(echo);
    const secrets = source({ TOKEN, OTHER: 'never-asked' });
    const own = new ExpressionEvaluator({ timeoutMs: 30_000, inline });
    try {
      const engine = new WorkflowEngine(own, { http: { allowedHosts: ['127.0.0.1'], secrets } });
      const outcome = await engine.run(
        validateDefinition({ steps: [{ id: 'call', type: 'http', ...request(server.origin) }] }),
        { input: {}, run: RUN },
      );
      const [received] = server.requests;
      const basic = `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`;
      expect(received.headers.authorization).toBe(basic);
      expect(received.url).toBe(`/echo?k=${encodeURIComponent(TOKEN)}`);
      expect(JSON.parse(received.body)).toEqual({ token: TOKEN });
      expect(secrets.asked).toEqual([['TOKEN']]);
      expect(outcome).toEqual({
        status: 'completed',
        output: {
          status: 200,
          headers: expect.objectContaining({ 'x-auth': '[redacted:TOKEN]' }),
          body: {
            url: '/echo?k=[redacted:TOKEN]',
            body: '{"token":"[redacted:TOKEN]"}',
            auth: '[redacted:TOKEN]',
          },
        },
      });
    } finally {
      await own.close();
    }
  });

  it('reads the values again on every attempt, so that a retry uses a rotated value', async () => {
    let value = 'first-value';
    const secrets = { resolve: () => Promise.resolve(new Map([['TOKEN', value]])) };
    const { run } = setup({ allowedHosts: ['127.0.0.1'], secrets }, async () => {
      value = 'second-value';
    });
    const retried = await startServer((_req, res) => {
      res.writeHead(retried.requests.length === 1 ? 503 : 200);
      res.end();
    });
    const again = await run({
      request: { method: 'GET', url: `${retried.origin}/x`, headers: { 'x-key': '{{ secrets.TOKEN }}' } },
      retry: { maxAttempts: 2 },
    });
    expect(again.status).toBe('completed');
    expect(retried.requests.map((r) => r.headers['x-key'])).toEqual(['first-value', 'second-value']);
  });

  it('fails the step with secret_not_found, sending nothing, when a secret is gone', async () => {
    const server = await startServer(echo);
    const { run, results } = setup({ allowedHosts: ['127.0.0.1'], secrets: source({}) });
    const outcome = await run(request(server.origin));
    expect(outcome).toEqual({
      status: 'failed',
      error: { code: 'secret_not_found', message: expect.stringContaining('"TOKEN"'), stepId: 'call' },
    });
    expect(results[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(server.requests).toHaveLength(0);
  });

  it('redacts the values in errors: an expression that throws one, a host made of one', async () => {
    const secrets = source({ TOKEN, HOST: 'secret-host-7f3a.invalid' });
    const { run } = setup({ allowedHosts: ['127.0.0.1'], secrets });
    const thrown = await run({
      request: { method: 'POST', url: 'http://127.0.0.1:1/x', body: "$error('bad ' & $secret('TOKEN'))" },
    });
    expect(thrown).toEqual({
      status: 'failed',
      error: { code: 'expression_error', message: expect.stringContaining('bad [redacted:TOKEN]'), stepId: 'call' },
    });
    const unresolved = await run({ request: { method: 'GET', url: 'http://{{ secrets.HOST }}/x' } });
    expect(unresolved.status).toBe('failed');
    const { message } = (unresolved as { error: { message: string } }).error;
    expect(message).toContain('[redacted:HOST]');
    expect(message).not.toContain('secret-host-7f3a');
  });
});
