import { describe, expect, it } from '@jest/globals';

import { filtersFromQuery, fromLocalInput, runsQueryString, toLocalInput } from './run-filters';

describe('filtersFromQuery', () => {
  it('keeps a known status and a workflow id', () => {
    expect(filtersFromQuery({ status: 'failed', workflowId: 'w1' })).toEqual({ status: 'failed', workflowId: 'w1' });
  });

  it('drops an unknown status and empty values', () => {
    expect(filtersFromQuery({ status: 'exploded', workflowId: '' })).toEqual({});
    expect(filtersFromQuery({})).toEqual({});
  });
});

describe('runsQueryString', () => {
  it('writes only the filters that are set, for the console URL', () => {
    expect(runsQueryString({})).toBe('');
    expect(runsQueryString({ status: 'running' })).toBe('status=running');
  });

  it('adds limit and cursor for the API, and encodes values', () => {
    expect(runsQueryString({ workflowId: 'a b' }, { cursor: 'c/1', limit: 20 })).toBe(
      'limit=20&workflowId=a+b&cursor=c%2F1',
    );
    expect(runsQueryString({}, { cursor: null, limit: 50 })).toBe('limit=50');
  });

  it('round-trips through filtersFromQuery', () => {
    const filters = { status: 'completed', workflowId: '0190' } as const;
    const query = Object.fromEntries(new URLSearchParams(runsQueryString(filters)));
    expect(filtersFromQuery(query)).toEqual(filters);
  });
});

describe('trigger type and created between', () => {
  it('keeps a known trigger type and valid instants, as ISO, and drops the rest', () => {
    expect(
      filtersFromQuery({
        triggerType: 'rerun',
        createdFrom: '2026-12-06T06:00:00Z',
        createdTo: '2026-12-07T00:00:00.000Z',
      }),
    ).toEqual({ triggerType: 'rerun', createdFrom: '2026-12-06T06:00:00.000Z', createdTo: '2026-12-07T00:00:00.000Z' });
    expect(filtersFromQuery({ triggerType: 'cron', createdFrom: 'yesterday', createdTo: '' })).toEqual({});
  });

  it('round-trips through the URL and goes to the API', () => {
    const filters = { triggerType: 'webhook', createdFrom: '2026-12-06T06:00:00.000Z' } as const;
    const query = Object.fromEntries(new URLSearchParams(runsQueryString(filters)));
    expect(filtersFromQuery(query)).toEqual(filters);
    expect(runsQueryString(filters, { cursor: null, limit: 20 })).toBe(
      'limit=20&triggerType=webhook&createdFrom=2026-12-06T06%3A00%3A00.000Z',
    );
  });

  it('converts datetime-local values to instants and back', () => {
    const iso = fromLocalInput('2026-12-06T07:30');
    expect(iso).toBe(new Date(2026, 11, 6, 7, 30).toISOString());
    expect(toLocalInput(iso)).toBe('2026-12-06T07:30:00');
    expect(toLocalInput(fromLocalInput('2026-12-06T07:30:15'))).toBe('2026-12-06T07:30:15');
    expect(fromLocalInput('')).toBeUndefined();
    expect(toLocalInput(undefined)).toBe('');
  });
});
