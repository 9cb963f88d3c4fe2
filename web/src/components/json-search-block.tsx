import { useState } from 'preact/hooks';

import { jsonView } from '../lib/format';
import { searchJson, splitOnMatches } from '../lib/json-search';

function Highlighted({ text, query }: { text: string; query: string }) {
  return (
    <>
      {splitOnMatches(text, query).map((part, index) =>
        part.match ? <mark key={index}>{part.text}</mark> : part.text,
      )}
    </>
  );
}

/** JSON with a search box: open when small, collapsed when large; a search lists the matching keys and values. */
export function JsonSearchBlock({ label, value }: { label: string; value: unknown }) {
  const view = jsonView(value);
  const [query, setQuery] = useState('');
  const matches = searchJson(value, query);
  return (
    <details class="json" open={view.open}>
      <summary>
        {label} <span class="muted">({view.size})</span>
      </summary>
      <p class="json-search">
        <label>
          Search {label.toLowerCase()}{' '}
          <input type="search" value={query} onInput={(event) => setQuery(event.currentTarget.value)} />
        </label>
      </p>
      {query.trim() ? (
        <>
          <p role="status">
            {matches.length === 0 ? 'No match' : matches.length === 1 ? '1 match' : `${matches.length} matches`}
          </p>
          {matches.length > 0 && (
            <pre tabIndex={0} aria-label={`Matches in ${label.toLowerCase()}`}>
              {matches.map((m) => (
                <div key={m.path}>
                  <Highlighted text={m.path || '(the whole value)'} query={query} />:{' '}
                  <Highlighted text={m.value} query={query} />
                </div>
              ))}
            </pre>
          )}
        </>
      ) : (
        <pre tabIndex={0} aria-label={label}>
          {view.text}
        </pre>
      )}
    </details>
  );
}
