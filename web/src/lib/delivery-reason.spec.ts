import { describe, expect, it } from '@jest/globals';

import { DELIVERY_OUTCOMES, deliveryReason, formatBytes } from './delivery-reason';

describe('deliveryReason', () => {
  it('says what became of each outcome', () => {
    expect(deliveryReason('accepted', null)).toBe('accepted: started a run');
    expect(deliveryReason('replayed', null)).toMatch(/^duplicate/);
    expect(deliveryReason('rejected', 'invalid_signature')).toBe('rejected: invalid signature');
    expect(deliveryReason('rejected', 'timestamp_out_of_tolerance')).toMatch(/too old/);
    expect(deliveryReason('rejected', 'rate_limited')).toBe('rejected: rate limited');
    expect(deliveryReason('filtered', null)).toMatch(/^filtered: .*no run/);
    expect(deliveryReason('filter_failed', 'filter_failed')).toMatch(/^filter failed: no run/);
  });

  it('offers every outcome the API filters by', () => {
    expect(DELIVERY_OUTCOMES).toEqual(['accepted', 'replayed', 'rejected', 'filtered', 'filter_failed']);
  });

  it('falls back to the code in words for a code it does not know', () => {
    expect(deliveryReason('rejected', 'brand_new_reason')).toBe('rejected: brand new reason');
    expect(deliveryReason('rejected', null)).toBe('rejected');
  });
});

describe('formatBytes', () => {
  it('shows bytes, then kilobytes', () => {
    expect(formatBytes(null)).toBe('—');
    expect(formatBytes(14)).toBe('14 B');
    expect(formatBytes(2048)).toBe('2.0 kB');
  });
});
