import { describe, expect, it } from '@jest/globals';

import { filtersFromQuery, runsQueryString } from './run-filters';

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
