import { useState } from 'preact/hooks';

import { useRestoreVersion, useVersions, type WorkflowVersion } from '../../api/workflow-queries';
import { formatTime } from '../../lib/format';
import { lineDiff, prettyJson } from '../../lib/line-diff';
import { ConfirmDialog } from '../confirm-dialog';
import { ErrorMessage } from '../error-message';

const PREFIX = { same: '  ', added: '+ ', removed: '- ' } as const;

function VersionDiff({ from, to }: { from: WorkflowVersion; to: WorkflowVersion }) {
  const lines = lineDiff(prettyJson(from.definition), prettyJson(to.definition));
  const changes = lines.filter((line) => line.kind !== 'same').length;
  const label = `Diff from version ${from.version} to version ${to.version}`;
  return (
    <figure class="diff">
      <figcaption class="muted">
        {changes === 0 ? 'No differences.' : `${changes} changed line${changes === 1 ? '' : 's'}`}
      </figcaption>
      <pre tabIndex={0} aria-label={label}>
        {lines.map((line, i) => (
          <span key={i} class={`diff-line diff-${line.kind}`}>
            {line.kind !== 'same' && <span class="visually-hidden">{line.kind} </span>}
            {PREFIX[line.kind]}
            {line.text}
            {'\n'}
          </span>
        ))}
      </pre>
    </figure>
  );
}

export function VersionsPanel({ workflowId, current }: { workflowId: string; current: number }) {
  const versions = useVersions(workflowId);
  const restore = useRestoreVersion(workflowId);
  const [restoring, setRestoring] = useState<number | null>(null);
  const [fromVersion, setFrom] = useState<number | null>(null);
  const [toVersion, setTo] = useState<number | null>(null);

  const list = versions.data?.data ?? [];
  const byNumber = new Map(list.map((v) => [v.version, v]));
  const to = byNumber.get(toVersion ?? current) ?? list[0];
  const from = byNumber.get(fromVersion ?? (to ? to.version - 1 : 0)) ?? list[1];

  return (
    <section aria-labelledby="versions-heading">
      <h2 id="versions-heading">Versions</h2>
      <ErrorMessage error={versions.error ?? restore.error} />
      {versions.isPending ? (
        <p>Loading versions…</p>
      ) : (
        <>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Version</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((v) => (
                  <tr key={v.version}>
                    <td data-label="Version">
                      {v.version}
                      {v.version === current && <span class="muted"> (current)</span>}
                    </td>
                    <td data-label="Created">{formatTime(v.createdAt)}</td>
                    <td>
                      {v.version !== current && (
                        <button type="button" class="secondary" onClick={() => setRestoring(v.version)}>
                          Restore version {v.version}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.length > 1 && from && to && (
            <>
              <div class="filters">
                <label for="diff-from">From version</label>
                <select id="diff-from" value={from.version} onChange={(e) => setFrom(Number(e.currentTarget.value))}>
                  {list.map((v) => (
                    <option key={v.version} value={v.version}>
                      {v.version}
                    </option>
                  ))}
                </select>
                <label for="diff-to">To version</label>
                <select id="diff-to" value={to.version} onChange={(e) => setTo(Number(e.currentTarget.value))}>
                  {list.map((v) => (
                    <option key={v.version} value={v.version}>
                      {v.version}
                    </option>
                  ))}
                </select>
              </div>
              <VersionDiff from={from} to={to} />
            </>
          )}
        </>
      )}
      {restoring !== null && (
        <ConfirmDialog
          open
          title={`Restore version ${restoring}?`}
          message={`Its definition becomes current again, as version ${current + 1}. Runs already started keep their version.`}
          confirmLabel="Restore"
          busy={restore.isPending}
          onConfirm={() => restore.mutate(restoring, { onSettled: () => setRestoring(null) })}
          onClose={() => setRestoring(null)}
        />
      )}
    </section>
  );
}
