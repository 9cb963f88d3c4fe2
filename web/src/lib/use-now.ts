import { useEffect, useState } from 'preact/hooks';

/** The current time, renewed every `intervalMs`: "5 s ago" keeps counting while the data stays the same. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
