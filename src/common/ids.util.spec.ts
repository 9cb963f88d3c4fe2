import { describe, expect, it } from '@jest/globals';

import { firstIdAt, idTime, newId, newIdAt } from './ids.util.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newId', () => {
  it('makes distinct UUIDv7 ids that keep increasing, also within one millisecond and across pool refills', () => {
    const ids = Array.from({ length: 2000 }, () => newId());
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('starts with the current time in milliseconds', () => {
    const before = Date.now();
    const id = newId();
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(Date.now());
  });
});

describe('idTime and firstIdAt', () => {
  it('reads back the millisecond an id was made at', () => {
    const before = Date.now();
    const id = newId();
    const time = idTime(id).getTime();
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
    expect(idTime('01932b4e-3c1a-7abc-9def-0123456789ab').toISOString()).toBe('2024-11-14T15:32:47.770Z');
  });

  it('makes distinct ids of a given millisecond, also one in the past', () => {
    const ms = Date.now() - 60_000;
    const ids = Array.from({ length: 500 }, () => newIdAt(ms));
    for (const id of ids) {
      expect(id).toMatch(UUID_V7);
      expect(idTime(id).getTime()).toBe(ms);
    }
    expect(new Set(ids).size).toBe(ids.length);
    expect(newIdAt(ms) < newId()).toBe(true);
  });

  it('turns a time into an id bound: ids of earlier milliseconds sort below it, later and equal ones not', () => {
    const t = new Date('2024-11-14T15:32:47.770Z');
    const bound = firstIdAt(t);
    expect(bound).toBe('01932b4e-3c1a-7000-8000-000000000000');
    expect(bound).toMatch(UUID_V7);
    expect(idTime(bound)).toEqual(t);
    const same = '01932b4e-3c1a-7000-8000-000000000001';
    const earlier = '01932b4e-3c19-7fff-bfff-ffffffffffff';
    const later = '01932b4e-3c1b-7000-8000-000000000000';
    expect([later, same, bound, earlier].sort()).toEqual([earlier, bound, same, later]);
  });
});
