import { useMutation, useQueryClient } from '@tanstack/preact-query';
import { useState } from 'preact/hooks';

import { api } from '../api/client';
import { useApiKeys } from '../api/queries';
import type { ApiKey } from '../api/types';
import { ConfirmDialog } from '../components/confirm-dialog';
import { ErrorMessage } from '../components/error-message';
import { formatTime } from '../lib/format';

export function ApiKeysPage() {
  const keys = useApiKeys();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  const create = useMutation({
    mutationFn: (keyName: string) =>
      api<{ data: ApiKey & { key: string } }>('/v1/api-keys', { method: 'POST', body: { name: keyName } }),
    onSuccess: async (result) => {
      setCreated(result.data);
      setName('');
      await queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (key: ApiKey) => api(`/v1/api-keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' }),
    onSettled: async () => {
      setRevoking(null);
      await queryClient.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });

  const list = keys.data?.data ?? [];
  return (
    <section>
      <h1>API keys</h1>
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (name.trim()) create.mutate(name.trim());
        }}
      >
        <label for="key-name">Name</label>
        <input id="key-name" value={name} required onInput={(event) => setName(event.currentTarget.value)} />
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      <ErrorMessage error={keys.error ?? create.error ?? revoke.error} />
      {created && (
        <div class="notice" role="status">
          <p>
            Key <strong>{created.name}</strong> created. Copy it now: it is not shown again.
          </p>
          <code class="wrap" aria-label="New API key">
            {created.key}
          </code>
          <div class="actions">
            <button type="button" class="secondary" onClick={() => void navigator.clipboard?.writeText(created.key)}>
              Copy
            </button>
            <button type="button" class="secondary" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      )}
      {keys.isPending ? (
        <p>Loading API keys…</p>
      ) : list.length === 0 ? (
        <p class="empty">No API keys besides the bootstrap key.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((k) => (
                <tr key={k.id}>
                  <td data-label="Name">{k.name}</td>
                  <td data-label="Prefix">
                    <code>{k.prefix}</code>
                  </td>
                  <td data-label="Created">{formatTime(k.createdAt)}</td>
                  <td>
                    <button type="button" class="secondary" onClick={() => setRevoking(k)}>
                      Revoke<span class="visually-hidden"> {k.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoking && (
        <ConfirmDialog
          open
          title={`Revoke ${revoking.name}?`}
          message="It stops working at once, for every program that uses it. Revoking the key you signed in with signs you out."
          confirmLabel="Revoke key"
          busy={revoke.isPending}
          onConfirm={() => revoke.mutate(revoking)}
          onClose={() => setRevoking(null)}
        />
      )}
    </section>
  );
}
