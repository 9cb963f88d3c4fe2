// Small statistics helpers: percentiles over raw samples and the median of repeated runs.

/**
 * Nearest-rank percentile of unsorted samples (ms); null when there are none.
 * @param {number[]} values
 * @param {number} p 0..100
 * @returns {number | null}
 */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/**
 * p50/p99/p999/max/mean of samples, rounded to 0.1 ms.
 * @param {number[]} values
 */
export function summarize(values) {
  const round = (/** @type {number | null} */ v) => (v === null ? null : Math.round(v * 10) / 10);
  const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  return {
    count: values.length,
    p50: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    p99: round(percentile(values, 99)),
    p999: round(percentile(values, 99.9)),
    max: round(values.length ? values.reduce((a, b) => (b > a ? b : a), -Infinity) : null),
    mean: round(mean),
  };
}

/**
 * Median of numbers, ignoring null/undefined; null when none.
 * @param {(number | null | undefined)[]} values
 */
export function median(values) {
  const present = /** @type {number[]} */ (values.filter((v) => typeof v === 'number' && Number.isFinite(v)));
  if (present.length === 0) return null;
  const sorted = [...present].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Median, key by key, of objects of the same shape (numbers are medianed, nested objects recursed,
 * anything else taken from the first run). Each metric is the median of its own values, so the
 * resulting row may mix runs; that is what "median of 3" means for each figure.
 * @param {any[]} runs
 * @returns {any}
 */
export function medianOf(runs) {
  if (runs.length === 1) return runs[0];
  const first = runs[0];
  if (typeof first === 'number' || first === null) {
    return median(runs);
  }
  if (typeof first !== 'object' || Array.isArray(first)) return first;
  /** @type {Record<string, any>} */
  const out = {};
  for (const key of Object.keys(first)) {
    const values = runs.map((r) => (r ? r[key] : undefined));
    if (values.some((v) => typeof v === 'number')) out[key] = median(values);
    else if (first[key] && typeof first[key] === 'object' && !Array.isArray(first[key])) out[key] = medianOf(values);
    else if (typeof first[key] === 'boolean') out[key] = values.filter(Boolean).length * 2 > values.length;
    else out[key] = first[key];
  }
  return out;
}

/** @param {number | null | undefined} v @param {number} digits */
export function fixed(v, digits = 1) {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}
