import { describe, expect, it } from '@jest/globals';

import { durationBetween, formatAgo, formatBytes, formatDuration, jsonView } from './format';

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [850, '850 ms'],
    [1234, '1.23 s'],
    [12_345, '12.3 s'],
    [245_000, '4 min 05 s'],
    [7_380_000, '2 h 03 min'],
    [-1, '—'],
    [Number.NaN, '—'],
  ])('%p ms reads %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('durationBetween', () => {
  it('measures to the end, or to now while running, and says nothing before the start', () => {
    expect(durationBetween('2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.500Z')).toBe('1.50 s');
    expect(durationBetween('2026-01-01T00:00:00.000Z', null, Date.parse('2026-01-01T00:00:00.300Z'))).toBe('300 ms');
    expect(durationBetween(null, null)).toBe('—');
  });
});

describe('formatAgo', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  it.each([
    ['2026-01-01T23:59:55Z', '5 s ago'],
    ['2026-01-01T23:57:00Z', '3 min ago'],
    ['2026-01-01T21:00:00Z', '3 h ago'],
    ['2025-12-30T00:00:00Z', '3 d ago'],
    ['2026-01-02T00:00:09Z', '0 s ago'],
  ])('%p is %p', (iso, text) => {
    expect(formatAgo(iso, now)).toBe(text);
  });
});

describe('jsonView', () => {
  it('shows small JSON open and large JSON collapsed, with its size', () => {
    expect(jsonView({ a: 1 })).toEqual({ text: '{\n  "a": 1\n}', open: true, size: '12 B' });
    const large = jsonView({ items: Array.from({ length: 500 }, (_, i) => i) });
    expect(large.open).toBe(false);
    expect(large.size).toMatch(/kB$/);
  });

  it('counts bytes, not characters, and shows undefined as null', () => {
    expect(jsonView('é').size).toBe('4 B');
    expect(jsonView(undefined).text).toBe('null');
  });

  it('opens exactly up to the limit', () => {
    expect(jsonView('x'.repeat(8), 10).open).toBe(true);
    expect(jsonView('x'.repeat(9), 10).open).toBe(false);
  });
});

describe('formatBytes', () => {
  it('uses B, kB and MB', () => {
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(2048)).toBe('2.0 kB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MB');
  });
});
