import { useState } from 'preact/hooks';

import { useDeliveries } from '../../api/workflow-queries';
import { DELIVERY_OUTCOMES, deliveryReason, formatBytes, type DeliveryOutcome } from '../../lib/delivery-reason';
import { formatTime } from '../../lib/format';
import { ErrorMessage } from '../error-message';

export function DeliveriesPanel({ workflowId, hasTrigger }: { workflowId: string; hasTrigger: boolean }) {
  const [outcome, setOutcome] = useState<DeliveryOutcome | ''>('');
  const deliveries = useDeliveries(workflowId, outcome, hasTrigger);
  const list = deliveries.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <section aria-labelledby="deliveries-heading">
      <h2 id="deliveries-heading">Deliveries</h2>
      {!hasTrigger ? (
        <p class="empty">No trigger, so no deliveries: create a webhook trigger above.</p>
      ) : (
        <>
          <div class="filters">
            <label for="delivery-outcome">Outcome</label>
            <select
              id="delivery-outcome"
              value={outcome}
              onChange={(e) => setOutcome(e.currentTarget.value as DeliveryOutcome | '')}
            >
              <option value="">any</option>
              {DELIVERY_OUTCOMES.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
            <button type="button" class="secondary" onClick={() => void deliveries.refetch()}>
              Refresh
            </button>
          </div>
          <ErrorMessage error={deliveries.error} />
          {deliveries.isPending ? (
            <p>Loading deliveries…</p>
          ) : list.length === 0 ? (
            <p class="empty">
              {outcome
                ? `No ${outcome} deliveries.`
                : 'No deliveries yet: send a test delivery, or point a sender at the URL.'}
            </p>
          ) : (
            <div class="table-wrap">
              <table aria-label="Deliveries">
                <thead>
                  <tr>
                    <th scope="col">Received</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">HTTP</th>
                    <th scope="col">Request id</th>
                    <th scope="col">Size</th>
                    <th scope="col">Run</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((d) => (
                    <tr key={d.id}>
                      <td data-label="Received">{formatTime(d.receivedAt)}</td>
                      <td data-label="Outcome">
                        {deliveryReason(d.outcome, d.errorCode)}
                        {d.reason && <div class="muted">{d.reason}</div>}
                      </td>
                      <td data-label="HTTP">{d.statusCode}</td>
                      <td data-label="Request id">
                        <code class="wrap">{d.requestId ?? '—'}</code>
                      </td>
                      <td data-label="Size">{formatBytes(d.bodyBytes)}</td>
                      <td data-label="Run">
                        {d.runId ? (
                          <a href={`/console/runs/${encodeURIComponent(d.runId)}`}>Run {d.runId.slice(-8)}</a>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {deliveries.hasNextPage && (
            <button
              type="button"
              class="secondary"
              disabled={deliveries.isFetchingNextPage}
              onClick={() => void deliveries.fetchNextPage()}
            >
              Load more
            </button>
          )}
        </>
      )}
    </section>
  );
}
