import { describe, expect, it } from '@jest/globals';

import { DefinitionError } from './definition-error.js';
import { validateDefinition } from './validate-definition.js';

/** The example of API.md, without its http and delay steps (they come with a later issue). */
const apiExample = {
  steps: [
    { id: 'score', type: 'transform', expression: '$count(input.deals)' },
    { id: 'gate', type: 'condition', expression: 'steps.score.output > 2', then: 'notify', else: 'done' },
    {
      id: 'notify',
      type: 'fail',
      message: 'company {{ input.companyId }} scored {{ steps.score.output }}',
      code: 'score_too_high',
      retry: { maxAttempts: 3, backoffMs: 1000 },
      timeoutMs: 10000,
    },
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

    expect(definition.steps[0]).toEqual({ id: 'score', type: 'transform', expression: '$count(input.deals)' });
    expect(definition.steps[2].retry).toEqual({ maxAttempts: 3, backoffMs: 1000 });
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
      expect(refusal(withSteps({ id: 'a', type: 'http', request: {} }))).toBe(
        'step "a": unknown type "http" (known types: transform, condition, fail)',
      );
      expect(refusal(withSteps({ id: 'a', type: 4 }))).toBe(
        'step "a": unknown type 4 (known types: transform, condition, fail)',
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

      expect(retry(3)).toBe('step "call": retry must be an object { maxAttempts, backoffMs }');
      expect(retry({ maxAttempts: 3 })).toBe('step "call": missing retry.backoffMs');
      expect(retry({ backoffMs: 3 })).toBe('step "call": missing retry.maxAttempts');
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
});
