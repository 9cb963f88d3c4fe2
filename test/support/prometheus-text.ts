/** Samples of a Prometheus text exposition, by `name{label="value",...}` with the labels sorted by name. */
export type Samples = Map<string, number>;

const SAMPLE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([A-Za-z_]\w*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheusText(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`Not a sample line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(LABEL)].map(([, name, value]) => [name, value] as const);
    samples.set(sampleKey(match[1], Object.fromEntries(labels)), Number(match[3]));
  }
  return samples;
}

export function sampleKey(name: string, labels: Record<string, string> = {}): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? name : `${name}{${entries.map(([key, value]) => `${key}="${value}"`).join(',')}}`;
}

/** The samples of one metric (a histogram's `_bucket`, `_sum` and `_count` are metrics of their own here). */
export function samplesOf(samples: Samples, name: string): Record<string, number> {
  return Object.fromEntries(
    [...samples].filter(([key]) => key === name || key.startsWith(`${name}{`)).map(([key, value]) => [key, value]),
  );
}
