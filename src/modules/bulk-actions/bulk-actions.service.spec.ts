import { describe, expect, it } from '@jest/globals';

import { ValidationError } from '../../common/domain.error.js';
import { hashOf, normaliseFilter, toRunFilter } from './bulk-actions.service.js';

describe('normaliseFilter', () => {
  it('writes one request one way: lower-case ids, UTC times, absent fields left out', () => {
    expect(
      normaliseFilter({
        workflowId: '0193A8F2-5B7E-7C3D-9A61-2F4E8D0C1B2A',
        createdAfter: '2026-11-27T01:00:00+01:00',
        createdBefore: '2026-11-28',
      }),
    ).toEqual({
      workflowId: '0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a',
      createdAfter: '2026-11-27T00:00:00.000Z',
      createdBefore: '2026-11-28T00:00:00.000Z',
    });
    expect(normaliseFilter({})).toEqual({});
  });

  it('refuses a window that does not end after it starts, naming the field', () => {
    for (const createdBefore of ['2026-11-27T00:00:00Z', '2026-11-26T23:59:59Z']) {
      const attempt = () => normaliseFilter({ createdAfter: '2026-11-27T00:00:00Z', createdBefore });
      expect(attempt).toThrow(ValidationError);
      expect(attempt).toThrow('filter.createdBefore: must be after filter.createdAfter');
    }
  });

  it('refuses times whose ISO form would not sort as text', () => {
    expect(() => normaliseFilter({ createdAfter: '1969-12-31T23:59:59Z' })).toThrow('filter.createdAfter');
    expect(() => normaliseFilter({ createdBefore: '+010000-01-01T00:00:00Z' })).toThrow('filter.createdBefore');
  });
});

describe('toRunFilter', () => {
  it('maps the window on the runs list filter (createdAfter inclusive, createdBefore exclusive)', () => {
    expect(toRunFilter({ status: 'failed', createdAfter: '2026-11-27T00:00:00.000Z' })).toEqual({
      workflowId: undefined,
      status: 'failed',
      triggerType: undefined,
      createdFrom: new Date('2026-11-27T00:00:00.000Z'),
      createdTo: undefined,
    });
  });
});

describe('hashOf', () => {
  const request = { action: 'cancel', filter: { status: 'queued' as const }, limit: 10 };

  it('is the same for the same request, whatever the order of its keys', () => {
    expect(hashOf(request)).toBe(hashOf({ limit: 10, filter: { status: 'queued' }, action: 'cancel' }));
  });

  it('differs when the action, the limit or any filter field differs', () => {
    const variants = [
      { ...request, action: 'retry' },
      { ...request, limit: 11 },
      { ...request, filter: { status: 'failed' as const } },
      { ...request, filter: { status: 'queued' as const, triggerType: 'api' as const } },
      { ...request, filter: {} },
    ];
    const hashes = new Set([hashOf(request), ...variants.map(hashOf)]);
    expect(hashes.size).toBe(variants.length + 1);
  });
});
