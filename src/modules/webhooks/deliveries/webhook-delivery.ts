/** What became of a request to a trigger's URL. */
export const DELIVERY_OUTCOMES = ['accepted', 'replayed', 'rejected'] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/**
 * One request that reached a trigger's URL: when, its answer, its size and the SHA-256 of its body (to
 * match it with what the sender shows), and the run it started. Never the body, headers or secrets.
 */
export interface WebhookDelivery {
  id: string;
  triggerId: string;
  workflowId: string;
  receivedAt: Date;
  outcome: DeliveryOutcome;
  statusCode: number;
  /** The error envelope's code, for answers other than 2xx. */
  errorCode: string | null;
  /** Bytes received; for a body refused before it was read (413), the Content-Length the sender declared. */
  bodyBytes: number | null;
  /** Hex SHA-256 of the bytes received; null when the body was not read. */
  bodySha256: string | null;
  /** The sender's delivery id (the deduplication id), once the signature verified. */
  deliveryId: string | null;
  runId: string | null;
  requestId: string | null;
}
