/** "850 ms", "12.3 s", "4 min 05 s", "2 h 03 min": precise when short, coarse when long. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const totalSeconds = Math.floor(ms / 1000);
  if (totalSeconds < 3600) {
    return `${Math.floor(totalSeconds / 60)} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  }
  const totalMinutes = Math.floor(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
}

/** How long something ran; still running when it has no end yet (measured against `now`). */
export function durationBetween(start: string | null, end: string | null, now: number = Date.now()): string {
  if (!start) return '—';
  const to = end ? Date.parse(end) : now;
  return formatDuration(to - Date.parse(start));
}

/** A local date and time to the second, or "—". */
export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "5 s ago", "3 min ago", ... for a list, where the exact time is in the title. */
export function formatAgo(iso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86_400)} d ago`;
}

/** JSON under this many characters is shown open; larger is collapsed until asked for. */
export const JSON_OPEN_LIMIT = 2000;

export interface JsonView {
  text: string;
  open: boolean;
  size: string;
}

export function jsonView(value: unknown, openLimit: number = JSON_OPEN_LIMIT): JsonView {
  const text = value === undefined ? 'null' : JSON.stringify(value, null, 2);
  return { text, open: text.length <= openLimit, size: formatBytes(new TextEncoder().encode(text).length) };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function shortId(id: string): string {
  return id.slice(-8);
}
