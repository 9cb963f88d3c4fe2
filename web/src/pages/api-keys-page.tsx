import { useApiKeys } from '../api/queries';
import { ErrorMessage } from '../components/error-message';
import { formatTime } from '../lib/format';

// TODO(issue 14): create (key shown once) and revoke.
export function ApiKeysPage() {
  const keys = useApiKeys();
  const list = keys.data?.data ?? [];
  return (
    <section>
      <h1>API keys</h1>
      <ErrorMessage error={keys.error} />
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
              </tr>
            </thead>
            <tbody>
              {list.map((k) => (
                <tr key={k.id}>
                  <td>{k.name}</td>
                  <td>
                    <code>{k.prefix}</code>
                  </td>
                  <td>{formatTime(k.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
