export const DELIVERY_OUTCOMES = ['accepted', 'replayed', 'rejected', 'filtered', 'filter_failed'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

const REASONS: Record<string, string> = {
  missing_signature: 'signature missing',
  invalid_signature: 'invalid signature',
  timestamp_out_of_tolerance: 'too old (timestamp out of tolerance)',
  invalid_json: 'body is not valid JSON',
  invalid_body: 'body could not be read',
  unsupported_media_type: 'unsupported content type',
  payload_too_large: 'body too large',
  rate_limited: 'rate limited',
  trigger_not_found: 'trigger or workflow disabled',
  unavailable: 'hookrun was unavailable',
};

/** What became of a delivery, in words a person reads at a glance. */
export function deliveryReason(outcome: string, errorCode: string | null): string {
  if (outcome === 'accepted') return 'accepted: started a run';
  if (outcome === 'replayed') return 'duplicate: a retry of an accepted delivery';
  if (outcome === 'filtered') return "filtered: the trigger's filter did not match (no run)";
  if (outcome === 'filter_failed') return 'filter failed: no run; the sender retries once the filter is fixed';
  if (!errorCode) return 'rejected';
  return `rejected: ${REASONS[errorCode] ?? errorCode.replaceAll('_', ' ')}`;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '—';
  if (bytes < 1024) return `${bytes} B`;
  return `${(bytes / 1024).toFixed(1)} kB`;
}
