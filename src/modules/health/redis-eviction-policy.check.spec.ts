import { describe, expect, it } from '@jest/globals';

import { evictionPolicyProblem, parseEvictionPolicy } from './redis-eviction-policy.check.js';

/** The shape of `INFO memory` as Redis 7 answers it (CRLF line ends, a section header, key:value lines). */
const info = (policy: string): string =>
  [
    '# Memory',
    'used_memory:1023344',
    'maxmemory:0',
    `maxmemory_policy:${policy}`,
    'allocator_frag_ratio:1.02',
    '',
  ].join('\r\n');

describe('the Redis eviction policy check', () => {
  it('reads maxmemory_policy from INFO memory', () => {
    expect(parseEvictionPolicy(info('noeviction'))).toBe('noeviction');
    expect(parseEvictionPolicy(info('allkeys-lru'))).toBe('allkeys-lru');
    expect(parseEvictionPolicy('# Memory\r\nused_memory:1\r\n')).toBeNull();
  });

  it('accepts noeviction only, and names any other policy', () => {
    expect(evictionPolicyProblem('noeviction')).toBeNull();
    for (const policy of ['allkeys-lru', 'volatile-lru', 'allkeys-lfu', 'volatile-ttl', 'allkeys-random']) {
      expect(evictionPolicyProblem(policy)).toMatch(new RegExp(`maxmemory-policy is ${policy}; set it to noeviction`));
    }
    expect(evictionPolicyProblem(null)).toMatch(/does not show its maxmemory_policy/);
  });
});
