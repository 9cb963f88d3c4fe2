import { describe, expect, it } from '@jest/globals';

import { DefinitionError } from './definition.error.js';
import { validateDefinition } from './definition.validator.js';
import {
  secretNamesOfExpression,
  secretNamesOfTemplate,
  secretReferencesOf,
  SecretReferenceError,
} from './secret-references.js';

const http = (request: Record<string, unknown>, id = 'call') => ({
  id,
  type: 'http',
  request: { method: 'POST', url: 'https://api.example.com/x', ...request },
});

function refusal(definition: unknown): string {
  try {
    validateDefinition(definition);
  } catch (error) {
    expect(error).toBeInstanceOf(DefinitionError);
    return (error as Error).message;
  }
  throw new Error('expected the definition to be refused');
}

describe('secretNamesOfExpression', () => {
  it.each([
    ['secrets.TOKEN', ['TOKEN']],
    ["'Bearer ' & secrets.TOKEN", ['TOKEN']],
    ['$$.secrets.TOKEN', ['TOKEN']],
    ['secrets.`TOKEN`', ['TOKEN']],
    ['$secret("A_1")', ['A_1']],
    ["$secret('B')", ['B']],
    ["{ 'a': secrets.A, 'b': $secret('B'), 'again': secrets.A }", ['A', 'B']],
    ['$base64encode(secrets.USER & ":" & secrets.PASS)', ['USER', 'PASS']],
    ['$uppercase($secret("LOWER_THEN"))', ['LOWER_THEN']],
  ])('finds the names in %s', (source, names) => {
    expect(secretNamesOfExpression(source)).toEqual(names);
  });

  it.each([
    'input.secrets.TOKEN',
    'steps.secrets.output',
    "'secrets.TOKEN'",
    '$secrets',
    'input.secret',
    '$count(input.items)',
  ])('finds none in %s', (source) => {
    expect(secretNamesOfExpression(source)).toEqual([]);
  });

  it.each([
    ['secrets', 'secrets.NAME'],
    ['secrets[0].TOKEN', 'secrets.NAME'],
    ['$keys(secrets)', 'secrets.NAME'],
    ['secrets.lower', 'not a secret name'],
    ['secrets.TOO_LONG_' + 'X'.repeat(60), 'not a secret name'],
    ['$secret(input.name)', '$secret("NAME")'],
    ['$secret("A", "B")', '$secret("NAME")'],
    ['$secret()', '$secret("NAME")'],
    ['$secret("lower")', 'not a secret name'],
    ['$map(["A"], $secret)', '$secret("NAME")'],
    ['($f := $secret; $f("A"))', '$secret("NAME")'],
  ])('refuses %s', (source, message) => {
    expect(() => secretNamesOfExpression(source)).toThrow(SecretReferenceError);
    expect(() => secretNamesOfExpression(source)).toThrow(message);
  });
});

describe('secretNamesOfTemplate', () => {
  it('reads every {{ }} part and nothing in the text around them', () => {
    expect(
      secretNamesOfTemplate('https://x/{{ secrets.A }}/secrets.B?k={{ $secret("C") }}&again={{ secrets.A }}'),
    ).toEqual(['A', 'C']);
    expect(secretNamesOfTemplate('no expressions, secrets.A')).toEqual([]);
  });
});

describe('secretReferencesOf', () => {
  it('lists each secret an http request uses, with its step', () => {
    const definition = validateDefinition({
      steps: [
        http({ url: 'https://x/{{ secrets.URL_KEY }}', headers: { authorization: 'Bearer {{ secrets.TOKEN }}' } }),
        { id: 'plain', type: 'transform', expression: 'input.secrets' },
        http({ body: "{ 'k': $secret('TOKEN'), 'p': $secret('PASS') }" }, 'second'),
      ],
    });
    expect(secretReferencesOf(definition)).toEqual([
      { name: 'URL_KEY', stepId: 'call' },
      { name: 'TOKEN', stepId: 'call' },
      { name: 'TOKEN', stepId: 'second' },
      { name: 'PASS', stepId: 'second' },
    ]);
  });

  it('refuses secrets anywhere but an http request, naming the step', () => {
    expect(refusal({ steps: [{ id: 'copy', type: 'transform', expression: 'secrets.TOKEN' }] })).toContain(
      'step "copy": secrets can be used only in an http step',
    );
    expect(
      refusal({ steps: [{ id: 'gate', type: 'condition', expression: '$secret("A") = "x"', then: null, else: null }] }),
    ).toContain('step "gate"');
    expect(refusal({ steps: [{ id: 'stop', type: 'fail', message: 'bad {{ secrets.A }}' }] })).toContain('step "stop"');
    expect(refusal({ steps: [http({})], output: 'secrets.TOKEN' })).toContain('definition: secrets can be used only');
    expect(refusal({ steps: [{ id: 'copy', type: 'transform', expression: 'secrets' }] })).toContain('step "copy"');
  });

  it('refuses a misused reference in a request, naming the step', () => {
    expect(refusal({ steps: [http({ body: '$secret(input.which)' })] })).toContain(
      'step "call": request: $secret takes one name',
    );
    expect(refusal({ steps: [http({ headers: { 'x-all': '{{ $string(secrets) }}' } })] })).toContain(
      'step "call": request: secrets must be followed by a name',
    );
  });

  it('leaves alone strings that only mention secrets', () => {
    const definition = validateDefinition({
      steps: [
        { id: 'secrets', type: 'transform', expression: "'keep your secrets.TOKEN safe'" },
        { id: 'stop', type: 'fail', message: 'the secret was wrong' },
      ],
    });
    expect(secretReferencesOf(definition)).toEqual([]);
  });
});
