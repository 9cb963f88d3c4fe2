import { describe, expect, it } from '@jest/globals';

import { DefinitionError } from './definition.error.js';
import { validateDefinition } from './definition.validator.js';

/** The example of API.md. */
const apiExample = {
  steps: [
    { id: 'score', type: 'transform', expression: '$count(input.deals)' },
    { id: 'gate', type: 'condition', expression: 'steps.score.output > 2', then: 'notify', else: 'done' },
    {
      id: 'notify',
      type: 'http',
      request: {
        method: 'POST',
        url: 'https://hooks.example.com/deals/{{ input.companyId }}',
        headers: { 'x-source': 'hookrun' },
        body: "{ 'company': input.companyId, 'score': steps.score.output }",
      },
      retry: { maxAttempts: 3, backoffMs: 1000 },
      timeoutMs: 10000,
    },
    { id: 'pause', type: 'delay', durationMs: 5000 },
    { id: 'done', type: 'transform', expression: "{ 'ok': true }" },
  ],
  output: 'steps.done.output',
};

function refusal(raw: unknown): string {
  try {
    validateDefinition(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(DefinitionError);
    return (err as DefinitionError).message;
  }
  throw new Error('expected the definition to be refused');
}

function withSteps(...steps: unknown[]): unknown {
  return { steps };
}

const transform = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'transform',
  expression: 'input',
  ...extra,
});

describe('validateDefinition', () => {
  it('accepts the API.md example and returns an equal copy', () => {
    const definition = validateDefinition(structuredClone(apiExample));

    expect(definition).toEqual(apiExample);
  });

  it('returns a copy that later changes to the input do not reach', () => {
    const raw = structuredClone(apiExample);
    const definition = validateDefinition(raw);

    raw.steps[0].expression = 'changed';
    (raw.steps[2].retry as { maxAttempts: number }).maxAttempts = 9;
    (raw.steps[2].request as { headers: Record<string, string> }).headers['x-source'] = 'changed';

    expect(definition.steps[0]).toEqual({ id: 'score', type: 'transform', expression: '$count(input.deals)' });
    expect(definition.steps[2].retry).toEqual({ maxAttempts: 3, backoffMs: 1000 });
    expect(definition.steps[2]).toMatchObject({ request: { headers: { 'x-source': 'hookrun' } } });
  });

  it('accepts a retry policy without backoffMs, leaving it out so that the engine applies its default', () => {
    for (const retry of [{ maxAttempts: 3 }, { maxAttempts: 3, backoffMs: null }]) {
      const definition = validateDefinition(withSteps(transform('call', { retry })));
      expect(definition.steps[0].retry).toEqual({ maxAttempts: 3 });
    }
    const zero = validateDefinition(withSteps(transform('call', { retry: { maxAttempts: 2, backoffMs: 0 } })));
    expect(zero.steps[0].retry).toEqual({ maxAttempts: 2, backoffMs: 0 });
  });

  it('accepts null jumps, a run timeout, and null for optional fields (left out of the copy)', () => {
    const definition = validateDefinition({
      steps: [
        { id: 'gate', type: 'condition', expression: 'input.go', then: 'work', else: null, retry: null },
        { id: 'work', type: 'transform', expression: 'input', timeoutMs: null },
        { id: 'stop', type: 'fail', message: 'stopped', code: null },
      ],
      output: null,
      timeoutMs: 7 * 24 * 60 * 60_000,
    });

    expect(definition).toEqual({
      steps: [
        { id: 'gate', type: 'condition', expression: 'input.go', then: 'work', else: null },
        { id: 'work', type: 'transform', expression: 'input' },
        { id: 'stop', type: 'fail', message: 'stopped' },
      ],
      timeoutMs: 604_800_000,
    });
    expect(Object.keys(definition)).toEqual(['steps', 'timeoutMs']);
    expect(Object.keys(definition.steps[2])).toEqual(['id', 'type', 'message']);
  });

  it('accepts 100 steps and ids of up to 64 characters with "_" and "-"', () => {
    const steps = Array.from({ length: 100 }, (_, i) => transform(`_step-${i}`));
    steps[0] = transform('a'.repeat(64));

    expect(validateDefinition({ steps }).steps).toHaveLength(100);
  });

  describe('refuses', () => {
    it('a definition that is not an object', () => {
      expect(refusal(null)).toBe('definition must be an object');
      expect(refusal([])).toBe('definition must be an object');
      expect(refusal('{"steps": []}')).toBe('definition must be an object');
    });

    it('unknown properties of the definition, naming them', () => {
      expect(refusal({ steps: [transform('a')], outputs: 'x' })).toBe('definition: unknown property "outputs"');
      expect(refusal({ steps: [transform('a')], name: 'x', version: 2 })).toBe(
        'definition: unknown properties "name", "version"',
      );
    });

    it('missing, non-array and empty steps', () => {
      expect(refusal({})).toBe('definition: missing steps');
      expect(refusal({ steps: { a: transform('a') } })).toBe('steps must be an array');
      expect(refusal({ steps: [] })).toBe('steps must not be empty');
    });

    it('more than 100 steps', () => {
      const steps = Array.from({ length: 101 }, (_, i) => transform(`s${i}`));

      expect(refusal({ steps })).toBe('steps: at most 100 steps are allowed, got 101');
    });

    it('a step that is not an object', () => {
      expect(refusal(withSteps(transform('a'), 'b'))).toBe('steps[1]: must be an object');
    });

    it('missing, non-string and malformed ids', () => {
      expect(refusal(withSteps(transform('a'), { type: 'transform', expression: 'x' }))).toBe('steps[1]: missing id');
      expect(refusal(withSteps(transform('a'), transform('b'), { id: 3, type: 'transform' }))).toBe(
        'steps[2]: id must be a string',
      );
      for (const id of ['', '1st', 'has space', 'dot.ted', 'a'.repeat(65), 'émoji']) {
        expect(refusal(withSteps(transform(id)))).toBe(
          `steps[0]: id ${JSON.stringify(id)} is not valid: use 1 to 64 letters, digits, "_" or "-", starting with a letter or "_"`,
        );
      }
      expect(refusal(withSteps(transform('__proto__')))).toBe('steps[0]: id "__proto__" is reserved');
    });

    it('duplicate ids', () => {
      expect(refusal(withSteps(transform('a'), transform('b'), transform('a')))).toBe(
        'step "a": duplicate id (also steps[0])',
      );
    });

    it('missing and unknown types', () => {
      expect(refusal(withSteps({ id: 'a', expression: 'x' }))).toBe('step "a": missing type');
      expect(refusal(withSteps({ id: 'a', type: 'webhook', url: 'x' }))).toBe(
        'step "a": unknown type "webhook" (known types: transform, condition, fail, http, delay)',
      );
      expect(refusal(withSteps({ id: 'a', type: 4 }))).toBe(
        'step "a": unknown type 4 (known types: transform, condition, fail, http, delay)',
      );
    });

    it('unknown properties of a step, including those of another type', () => {
      expect(refusal(withSteps(transform('a', { expresion: 'x' })))).toBe(
        'step "a": unknown property "expresion" for a transform step',
      );
      expect(refusal(withSteps(transform('a', { then: null, else: null })))).toBe(
        'step "a": unknown properties "then", "else" for a transform step',
      );
    });

    it('missing or non-string required fields', () => {
      expect(refusal(withSteps({ id: 'score', type: 'transform' }))).toBe('step "score": missing expression');
      expect(refusal(withSteps({ id: 'score', type: 'transform', expression: 42 }))).toBe(
        'step "score": expression must be a string',
      );
      expect(refusal(withSteps({ id: 'gate', type: 'condition', then: null, else: null }))).toBe(
        'step "gate": missing expression',
      );
      expect(refusal(withSteps({ id: 'gate', type: 'condition', expression: 'x', else: null }))).toBe(
        'step "gate": missing then (a later step\'s id, or null to end the run)',
      );
      expect(refusal(withSteps({ id: 'gate', type: 'condition', expression: 'x', then: null }))).toBe(
        'step "gate": missing else (a later step\'s id, or null to end the run)',
      );
      expect(refusal(withSteps({ id: 'gate', type: 'condition', expression: 'x', then: 1, else: null }))).toBe(
        'step "gate": then must be a step id or null',
      );
      expect(refusal(withSteps({ id: 'stop', type: 'fail' }))).toBe('step "stop": missing message');
      expect(refusal(withSteps({ id: 'stop', type: 'fail', message: ' ' }))).toBe(
        'step "stop": message must not be empty',
      );
    });

    it('expressions that do not compile, with JSONata message and position', () => {
      expect(refusal(withSteps({ id: 'score', type: 'transform', expression: '$count(input.deals' }))).toBe(
        'step "score": expression does not compile: Expected ")" before end of expression at position 18',
      );
      expect(
        refusal(
          withSteps({ id: 'gate', type: 'condition', expression: 'steps.score.output >', then: null, else: null }),
        ),
      ).toBe('step "gate": expression does not compile: Unexpected end of expression at position 20');
      expect(refusal({ steps: [transform('a')], output: 'steps.a.output +' })).toBe(
        'output: expression does not compile: Unexpected end of expression at position 16',
      );
      expect(refusal({ steps: [transform('a')], output: 5 })).toBe('output must be a string (a JSONata expression)');
    });

    it('fail message templates whose expressions do not compile', () => {
      expect(refusal(withSteps({ id: 'stop', type: 'fail', message: 'deal {{ input.id + }} refused' }))).toBe(
        'step "stop": message does not compile: Unexpected end of expression at position 19',
      );
      expect(refusal(withSteps({ id: 'stop', type: 'fail', message: 'deal {{ input.id' }))).toBe(
        'step "stop": message does not compile: "{{" at position 5 is not closed by "}}"',
      );
    });

    it('fail codes that are not snake_case', () => {
      for (const code of ['Bad', '1x', 'with-dash', '', 'a'.repeat(65), 7]) {
        expect(refusal(withSteps({ id: 'stop', type: 'fail', message: 'no', code }))).toBe(
          `step "stop": code ${JSON.stringify(code)} must be snake_case (/^[a-z][a-z0-9_]{0,63}$/)`,
        );
      }
    });

    it('jumps to unknown steps, to the step itself and to earlier steps', () => {
      const gate = (then: string | null, otherwise: string | null) => ({
        id: 'gate',
        type: 'condition',
        expression: 'true',
        then,
        else: otherwise,
      });

      expect(refusal(withSteps(transform('score'), gate('nope', null), transform('done')))).toBe(
        'step "gate": then refers to unknown step "nope"',
      );
      expect(refusal(withSteps(transform('score'), gate(null, 'gate'), transform('done')))).toBe(
        'step "gate": else refers to the step itself',
      );
      expect(refusal(withSteps(transform('score'), gate('done', 'score'), transform('done')))).toBe(
        'step "gate": else refers to earlier step "score" (only a later step or null is allowed)',
      );
    });

    it('retry policies out of range or malformed', () => {
      const retry = (value: unknown) => refusal(withSteps(transform('call', { retry: value })));

      expect(retry(3)).toBe('step "call": retry must be an object { maxAttempts, backoffMs? }');
      expect(retry({ backoffMs: 3 })).toBe('step "call": missing retry.maxAttempts');
      expect(retry({ maxAttempts: null, backoffMs: 3 })).toBe('step "call": missing retry.maxAttempts');
      expect(retry({ maxAttempts: 3, backoffMs: 10, jitter: true })).toBe(
        'step "call": retry: unknown property "jitter"',
      );
      expect(retry({ maxAttempts: 0, backoffMs: 10 })).toBe(
        'step "call": retry.maxAttempts must be an integer from 1 to 10, got 0',
      );
      expect(retry({ maxAttempts: 11, backoffMs: 10 })).toBe(
        'step "call": retry.maxAttempts must be an integer from 1 to 10, got 11',
      );
      expect(retry({ maxAttempts: 2.5, backoffMs: 10 })).toBe(
        'step "call": retry.maxAttempts must be an integer from 1 to 10, got 2.5',
      );
      expect(retry({ maxAttempts: 2, backoffMs: -1 })).toBe(
        'step "call": retry.backoffMs must be an integer from 0 to 3600000, got -1',
      );
      expect(retry({ maxAttempts: 2, backoffMs: 3_600_001 })).toBe(
        'step "call": retry.backoffMs must be an integer from 0 to 3600000, got 3600001',
      );
      expect(retry({ maxAttempts: 2, backoffMs: '10' })).toBe(
        'step "call": retry.backoffMs must be an integer from 0 to 3600000, got "10"',
      );
    });

    it('step and run timeouts out of range', () => {
      for (const timeoutMs of [0, -5, 86_400_001, 1.5, '100']) {
        expect(refusal(withSteps(transform('slow', { timeoutMs })))).toBe(
          `step "slow": timeoutMs must be an integer from 1 to 86400000, got ${JSON.stringify(timeoutMs)}`,
        );
      }
      for (const timeoutMs of [0, 604_800_001, 'PT1H']) {
        expect(refusal({ steps: [transform('a')], timeoutMs })).toBe(
          `timeoutMs must be an integer from 1 to 604800000 (7 days), got ${JSON.stringify(timeoutMs)}`,
        );
      }
    });
  });

  describe('http steps', () => {
    const http = (request: unknown, extra: Record<string, unknown> = {}) =>
      withSteps({ id: 'call', type: 'http', request, ...extra });
    const post = (extra: Record<string, unknown> = {}) => ({ method: 'POST', url: 'https://example.com/x', ...extra });

    it('accepts every method, okStatuses, and null for optional fields (left out of the copy)', () => {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']) {
        expect(validateDefinition(http({ method, url: 'http://example.com' })).steps[0]).toEqual({
          id: 'call',
          type: 'http',
          request: { method, url: 'http://example.com' },
        });
      }
      const definition = validateDefinition(
        http(post({ headers: null, body: null }), { okStatuses: [404, 409, 100, 599], retry: null }),
      );
      expect(definition.steps[0]).toEqual({
        id: 'call',
        type: 'http',
        request: { method: 'POST', url: 'https://example.com/x' },
        okStatuses: [404, 409, 100, 599],
      });
    });

    it('accepts 50 headers, templated values, and a header named "__proto__" as data', () => {
      const headers: Record<string, string> = Object.fromEntries(
        Array.from({ length: 49 }, (_, i) => [`x-h${i}`, `v{{ input.a }}${i}`]),
      );
      Object.defineProperty(headers, '__proto__', { value: 'p', enumerable: true });

      const step = validateDefinition(http(post({ headers }))).steps[0];

      expect(step.type === 'http' && Object.keys(step.request.headers ?? {})).toHaveLength(50);
      expect(step.type === 'http' && Object.getPrototypeOf(step.request.headers)).toBe(Object.prototype);
      expect(step.type === 'http' && Object.getOwnPropertyDescriptor(step.request.headers, '__proto__')?.value).toBe(
        'p',
      );
    });

    it('refuses a missing or malformed request, naming the step', () => {
      expect(refusal(withSteps({ id: 'call', type: 'http' }))).toBe('step "call": missing request');
      expect(refusal(http('https://example.com'))).toBe(
        'step "call": request must be an object { method, url, headers?, body? }',
      );
      expect(refusal(http(post({ query: 'x' })))).toBe('step "call": request: unknown property "query"');
      expect(refusal(http(post(), { expression: 'x' }))).toBe(
        'step "call": unknown property "expression" for an http step',
      );
    });

    it('refuses methods that are missing or not in the list', () => {
      expect(refusal(http({ url: 'https://example.com' }))).toBe('step "call": missing request.method');
      for (const method of ['post', 'OPTIONS', 'CONNECT', 'TRACE', 7]) {
        expect(refusal(http({ method, url: 'https://example.com' }))).toBe(
          `step "call": request.method must be one of GET, POST, PUT, PATCH, DELETE, HEAD, got ${JSON.stringify(method)}`,
        );
      }
    });

    it('refuses urls that are missing, empty, do not compile, or are not absolute http(s) URLs', () => {
      const url = (value: unknown) => refusal(http({ method: 'GET', url: value }));

      expect(refusal(http({ method: 'GET' }))).toBe('step "call": missing request.url');
      expect(url(5)).toBe('step "call": request.url must be a string');
      expect(url(' ')).toBe('step "call": request.url must not be empty');
      expect(url('https://example.com/{{ input.id + }}')).toBe(
        'step "call": request.url does not compile: Unexpected end of expression at position 34',
      );
      expect(url('https://example.com/{{ input.id')).toBe(
        'step "call": request.url does not compile: "{{" at position 20 is not closed by "}}"',
      );
      expect(url('/relative/path')).toBe('step "call": request.url is not a valid absolute URL');
      expect(url('ftp://example.com/file')).toBe('step "call": request.url must use http: or https:, not "ftp:"');
      expect(url('file:///etc/passwd')).toBe('step "call": request.url must use http: or https:, not "file:"');
      expect(url('gopher://example.com/{{ input.x }}')).toBe(
        'step "call": request.url must use http: or https:, not "gopher:"',
      );
      expect(url('https://user:secret@example.com/')).toBe(
        'step "call": request.url must not contain credentials (user:password@); send them in a header',
      );
    });

    it('accepts a url whose host, or whole value, comes from an expression', () => {
      for (const url of ['{{ input.callbackUrl }}', 'https://{{ input.tenant }}.example.com/hook']) {
        expect(validateDefinition(http({ method: 'POST', url })).steps[0]).toMatchObject({ request: { url } });
      }
    });

    it('refuses headers that are not an object of strings, or more than 50', () => {
      const headers = (value: unknown) => refusal(http(post({ headers: value })));

      expect(headers(['x-a'])).toBe('step "call": request.headers must be an object of header names to strings');
      expect(headers({ 'x-a': 1 })).toBe('step "call": request.headers["x-a"] must be a string');
      expect(headers(Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-${i}`, 'v'])))).toBe(
        'step "call": request.headers: at most 50 headers are allowed, got 51',
      );
    });

    it('refuses header names that are not tokens, reserved ones, and the same name twice', () => {
      const headers = (value: unknown) => refusal(http(post({ headers: value })));

      for (const name of ['', 'x a', 'x:a', 'x\na', 'ä', '(x)']) {
        expect(headers({ [name]: 'v' })).toBe(
          `step "call": request.headers: ${JSON.stringify(name)} is not a valid header name`,
        );
      }
      for (const name of ['Idempotency-Key', 'host', 'Content-Length', 'transfer-encoding', 'Connection']) {
        expect(headers({ [name]: 'v' })).toBe(
          `step "call": request.headers: ${JSON.stringify(name)} is set by hookrun, not by a step`,
        );
      }
      expect(headers({ 'X-Token': 'a', 'x-token': 'b' })).toBe(
        'step "call": request.headers: "x-token" and "X-Token" are the same header (names are case-insensitive)',
      );
    });

    it('refuses header values that do not compile or hold line breaks', () => {
      const headers = (value: unknown) => refusal(http(post({ headers: value })));

      expect(headers({ authorization: 'Bearer {{ $secret( }}' })).toMatch(
        /^step "call": request.headers\["authorization"\] does not compile: /,
      );
      for (const value of ['a\r\nx-injected: 1', 'a\nb', 'nul\u0000', 'emoji 🙂']) {
        expect(headers({ 'x-a': value })).toBe(
          'step "call": request.headers["x-a"] has a character that HTTP does not allow (a line break, a control character or one beyond Latin-1)',
        );
      }
    });

    it('refuses a body that is not a compiling expression, or with GET and HEAD', () => {
      expect(refusal(http(post({ body: { a: 1 } })))).toBe(
        'step "call": request.body must be a string (a JSONata expression)',
      );
      expect(refusal(http(post({ body: '{ "a": ' })))).toMatch(/^step "call": request.body does not compile: /);
      for (const method of ['GET', 'HEAD']) {
        expect(refusal(http({ method, url: 'https://example.com', body: 'input' }))).toBe(
          `step "call": request.body is not allowed with ${method}`,
        );
      }
    });

    it('refuses okStatuses that are not unique integers from 100 to 599, or more than 50', () => {
      const okStatuses = (value: unknown) => refusal(http(post(), { okStatuses: value }));

      expect(okStatuses(404)).toBe('step "call": okStatuses must be an array of HTTP status codes');
      expect(okStatuses([404, 99])).toBe('step "call": okStatuses[1] must be an integer from 100 to 599, got 99');
      expect(okStatuses([600])).toBe('step "call": okStatuses[0] must be an integer from 100 to 599, got 600');
      expect(okStatuses([404.5])).toBe('step "call": okStatuses[0] must be an integer from 100 to 599, got 404.5');
      expect(okStatuses(['404'])).toBe('step "call": okStatuses[0] must be an integer from 100 to 599, got "404"');
      expect(okStatuses([404, 409, 404])).toBe('step "call": okStatuses: 404 is listed twice');
      expect(okStatuses(Array.from({ length: 51 }, (_, i) => 400 + i))).toBe(
        'step "call": okStatuses: at most 50 status codes are allowed, got 51',
      );
    });
  });

  describe('delay steps', () => {
    const delay = (durationMs: unknown, timeoutMs?: number) => ({
      steps: [{ id: 'pause', type: 'delay', durationMs }],
      timeoutMs,
    });

    it('accepts durations from 1 ms up to 30 days, within the run timeout', () => {
      expect(validateDefinition(delay(1)).steps[0]).toEqual({ id: 'pause', type: 'delay', durationMs: 1 });
      expect(validateDefinition(delay(15 * 60_000 - 1)).steps[0]).toMatchObject({ durationMs: 899_999 });
      expect(validateDefinition(delay(6 * 86_400_000, 7 * 86_400_000)).steps[0]).toMatchObject({
        durationMs: 518_400_000,
      });
    });

    it('refuses a missing duration and durations out of range', () => {
      expect(refusal(withSteps({ id: 'pause', type: 'delay' }))).toBe('step "pause": missing durationMs');
      for (const durationMs of [0, -1, 1.5, '5000', 30 * 86_400_000 + 1]) {
        expect(refusal(delay(durationMs))).toBe(
          `step "pause": durationMs must be an integer from 1 to 2592000000 (30 days), got ${JSON.stringify(durationMs)}`,
        );
      }
      expect(refusal(withSteps({ id: 'pause', type: 'delay', durationMs: 5, until: 'x' }))).toBe(
        'step "pause": unknown property "until" for a delay step',
      );
    });

    it('refuses a delay that could never end within the run timeout', () => {
      expect(refusal(delay(15 * 60_000))).toBe(
        'step "pause": durationMs 900000 must be less than the default run timeoutMs (900000): raise the definition\'s timeoutMs',
      );
      expect(refusal(delay(30 * 86_400_000, 7 * 86_400_000))).toBe(
        'step "pause": durationMs 2592000000 must be less than the run\'s timeoutMs (604800000): raise the definition\'s timeoutMs',
      );
    });
  });
});
