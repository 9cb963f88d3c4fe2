export class HealthResponse {
  /** @example "ok" */
  status: 'ok';
  /** @example {"database":"ok","queue":"ok"} */
  checks: Record<string, 'ok'>;
}
