import { describe, expect, it } from '@jest/globals';

import { DefinitionError } from './definition.error.js';
import { validateDefinition } from './definition.validator.js';

const STEPS = [{ id: 'ok', type: 'transform', expression: '1' }];

function refusal(notify: unknown): string {
  try {
    validateDefinition({ steps: STEPS, notify });
  } catch (err) {
    expect(err).toBeInstanceOf(DefinitionError);
    return (err as DefinitionError).message;
  }
  throw new Error('expected the definition to be refused');
}

describe("a definition's notify", () => {
  it('keeps its endpoints, events deduplicated in the canonical order', () => {
    const definition = validateDefinition({
      steps: STEPS,
      notify: [
        { url: 'https://alerts.example.com/a', events: ['run.cancelled', 'run.failed', 'run.failed'] },
        { url: 'http://alerts.example.com/b?token=t', events: ['run.completed'] },
      ],
    });
    expect(definition.notify).toEqual([
      { url: 'https://alerts.example.com/a', events: ['run.failed', 'run.cancelled'] },
      { url: 'http://alerts.example.com/b?token=t', events: ['run.completed'] },
    ]);
  });

  it('is left out when absent or null, and may be empty', () => {
    expect(validateDefinition({ steps: STEPS })).not.toHaveProperty('notify');
    expect(validateDefinition({ steps: STEPS, notify: null })).not.toHaveProperty('notify');
    expect(validateDefinition({ steps: STEPS, notify: [] }).notify).toEqual([]);
  });

  it.each([
    [{}, 'notify must be an array of { url, events }'],
    [['https://a.example.com'], 'notify[0]: must be an object { url, events }'],
    [[{ events: ['run.failed'] }], 'notify[0]: missing url'],
    [[{ url: 42, events: ['run.failed'] }], 'notify[0]: url must be a string'],
    [[{ url: '/relative', events: ['run.failed'] }], 'notify[0]: url must be an absolute URL'],
    [[{ url: 'ftp://a.example.com/', events: ['run.failed'] }], 'notify[0]: url must use https: or http:, not "ftp:"'],
    [
      [{ url: 'https://user:pw@a.example.com/', events: ['run.failed'] }],
      'notify[0]: url must not contain credentials (user:password@)',
    ],
    [
      [{ url: `https://a.example.com/${'x'.repeat(2048)}`, events: ['run.failed'] }],
      'notify[0]: url must be at most 2048 characters',
    ],
    [[{ url: 'https://a.example.com/' }], 'notify[0]: missing events'],
    [
      [{ url: 'https://a.example.com/', events: [] }],
      'notify[0]: events must be a non-empty array of "run.failed", "run.completed", "run.cancelled"',
    ],
    [
      [{ url: 'https://a.example.com/', events: ['run.failed', 'run.started'] }],
      'notify[0]: events has unknown event "run.started" (known events: run.failed, run.completed, run.cancelled)',
    ],
    [
      [{ url: 'https://a.example.com/', events: ['run.failed'], secret: 'whsec_x' }],
      'notify[0]: unknown property "secret"',
    ],
    [
      [
        { url: 'https://a.example.com/', events: ['run.failed'] },
        { url: 'https://a.example.com/', events: ['run.completed'] },
      ],
      'notify[1]: duplicate url (also notify[0])',
    ],
    [
      Array.from({ length: 11 }, (_, i) => ({ url: `https://a.example.com/${i}`, events: ['run.failed'] })),
      'notify: at most 10 endpoints are allowed, got 11',
    ],
  ])('refuses %j: %s', (notify, message) => {
    expect(refusal(notify)).toBe(message);
  });

  it('never quotes the URL in a refusal: its query may hold a token', () => {
    expect(refusal([{ url: 'gopher://a.example.com/?token=s3cr3t', events: ['run.failed'] }])).not.toContain('s3cr3t');
  });
});
