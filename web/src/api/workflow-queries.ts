import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/preact-query';

import type { DeliveryOutcome } from '../lib/delivery-reason';
import { api } from './client';
import type { Page, Workflow } from './types';

/** The schemes POST /v1/workflows/{id}/trigger/webhook accepts (its OpenAPI enum); the first is the default. */
export const WEBHOOK_SCHEMES = [
  'standard-webhooks',
  'github',
  'stripe',
  'slack',
  'shopify',
  'hmac-sha256',
  'token',
] as const;

export interface WorkflowVersion {
  version: number;
  definition: unknown;
  createdAt: string;
}

export interface WebhookTrigger {
  slug: string;
  url: string;
  scheme: string;
  options: Record<string, unknown>;
  enabled: boolean;
  toleranceSeconds: number;
  /** JSONata over `{ body, headers }`; null: every verified delivery starts a run. */
  filter: string | null;
  createdAt: string;
  updatedAt?: string;
}

export interface WebhookDelivery {
  id: string;
  receivedAt: string;
  outcome: DeliveryOutcome;
  statusCode: number;
  errorCode: string | null;
  bodyBytes: number | null;
  deliveryId: string | null;
  runId: string | null;
  requestId: string | null;
  /** Why the filter failed (`filter_failed`). */
  reason: string | null;
}

export interface TestDeliveryResult {
  status: number;
  deliveryOutcome: DeliveryOutcome;
  runId?: string;
  errorCode?: string;
}

const DELIVERIES_POLL_MS = 5000;

const base = (id: string) => `/v1/workflows/${encodeURIComponent(id)}`;

export function useVersions(id: string) {
  return useQuery({
    queryKey: ['workflow', id, 'versions'],
    queryFn: () => api<Page<WorkflowVersion>>(`${base(id)}/versions?limit=100`),
  });
}

export function useTrigger(id: string, exists: boolean) {
  return useQuery({
    queryKey: ['workflow', id, 'trigger'],
    queryFn: () => api<{ data: WebhookTrigger }>(`${base(id)}/trigger/webhook`).then((r) => r.data),
    enabled: exists,
  });
}

export function useDeliveries(id: string, outcome: DeliveryOutcome | '', enabled: boolean) {
  return useInfiniteQuery({
    queryKey: ['workflow', id, 'deliveries', outcome],
    queryFn: ({ pageParam }) => {
      const query = new URLSearchParams({ limit: '20' });
      if (outcome) query.set('outcome', outcome);
      if (pageParam) query.set('cursor', pageParam);
      return api<Page<WebhookDelivery>>(`${base(id)}/trigger/webhook/deliveries?${query}`);
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled,
    // New deliveries show up while the panel is open; the log is small per page, so a refetch is cheap.
    refetchInterval: DELIVERIES_POLL_MS,
  });
}

/** Every write on a workflow page refreshes the workflow and what hangs off it. */
function useWorkflowMutation<TInput, TResult>(id: string, call: (input: TInput) => Promise<TResult>) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['workflow', id] });
      await queryClient.invalidateQueries({ queryKey: ['workflows'] });
    },
  });
}

export function useUpdateWorkflow(id: string) {
  return useWorkflowMutation(id, (patch: { definition?: unknown; enabled?: boolean }) =>
    api<{ data: Workflow }>(base(id), { method: 'PATCH', body: patch }).then((r) => r.data),
  );
}

export function useRestoreVersion(id: string) {
  return useWorkflowMutation(id, (version: number) =>
    api<{ data: Workflow }>(`${base(id)}/versions/restore`, { method: 'POST', body: { version } }).then((r) => r.data),
  );
}

export function useCreateTrigger(id: string) {
  return useWorkflowMutation(id, (body: { scheme: string; toleranceSeconds?: number; secret?: string }) =>
    api<{ data: WebhookTrigger & { secret: string } }>(`${base(id)}/trigger/webhook`, { method: 'POST', body }).then(
      (r) => r.data,
    ),
  );
}

export function useUpdateTrigger(id: string) {
  return useWorkflowMutation(id, (patch: { enabled?: boolean; toleranceSeconds?: number; filter?: string | null }) =>
    api<{ data: WebhookTrigger }>(`${base(id)}/trigger/webhook`, { method: 'PATCH', body: patch }).then((r) => r.data),
  );
}

export function useRotateSecret(id: string) {
  return useWorkflowMutation(id, (gracePeriodSeconds: number) =>
    api<{ data: { secret: string; previousSecretExpiresAt: string } }>(`${base(id)}/trigger/webhook-secret/rotate`, {
      method: 'POST',
      body: { gracePeriodSeconds },
    }).then((r) => r.data),
  );
}

export function useTestDelivery(id: string) {
  return useWorkflowMutation(id, (body: unknown) =>
    api<{ data: TestDeliveryResult }>(`${base(id)}/trigger/webhook/test-delivery`, {
      method: 'POST',
      body: { body },
    }).then((r) => r.data),
  );
}
