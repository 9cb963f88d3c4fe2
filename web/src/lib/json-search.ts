export interface JsonMatch {
  /** Where the value is, as in JSONata or JavaScript: `order.items[0].sku`. */
  path: string;
  /** The leaf value as JSON text. */
  value: string;
}

const MAX_MATCHES = 200;

function pathOf(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const plain = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  if (!parent) return plain.startsWith('"') ? `[${plain}]` : plain;
  return plain.startsWith('"') ? `${parent}[${plain}]` : `${parent}.${plain}`;
}

/** The leaves whose path or value holds the query (case-insensitive), in document order, at most 200. */
export function searchJson(value: unknown, query: string): JsonMatch[] {
  const needle = query.trim().toLowerCase();
  if (!needle) return [];
  const matches: JsonMatch[] = [];
  const visit = (node: unknown, path: string) => {
    if (matches.length >= MAX_MATCHES) return;
    if (node !== null && typeof node === 'object') {
      const entries: [string | number, unknown][] = Array.isArray(node)
        ? node.map((item, index) => [index, item])
        : Object.entries(node);
      if (entries.length === 0 && path.toLowerCase().includes(needle)) {
        matches.push({ path, value: JSON.stringify(node) });
      }
      for (const [key, child] of entries) visit(child, pathOf(path, key));
      return;
    }
    const text = node === undefined ? 'null' : JSON.stringify(node);
    if (path.toLowerCase().includes(needle) || text.toLowerCase().includes(needle)) matches.push({ path, value: text });
  };
  visit(value, '');
  return matches;
}

/** The text split around each case-insensitive occurrence of the query, for highlighting. */
export function splitOnMatches(text: string, query: string): { text: string; match: boolean }[] {
  const needle = query.trim().toLowerCase();
  if (!needle) return [{ text, match: false }];
  const parts: { text: string; match: boolean }[] = [];
  const lower = text.toLowerCase();
  let at = 0;
  for (let found = lower.indexOf(needle); found >= 0; found = lower.indexOf(needle, at)) {
    if (found > at) parts.push({ text: text.slice(at, found), match: false });
    parts.push({ text: text.slice(found, found + needle.length), match: true });
    at = found + needle.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at), match: false });
  return parts;
}
