import { DefinitionError } from './definition.error.js';
import { isObject, optional, rejectUnknownKeys } from './definition-fields.util.js';

/** The events a run's end sends; `run.<status>` of the run's final status. */
export const NOTIFY_EVENTS = ['run.failed', 'run.completed', 'run.cancelled'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

export interface NotifyEndpointConfig {
  url: string;
  events: NotifyEvent[];
}

export const MAX_NOTIFY_ENDPOINTS = 10;
export const MAX_NOTIFY_URL_LENGTH = 2048;
const ENDPOINT_KEYS = ['url', 'events'];

/** A definition's `notify`: clean copies of its endpoints, or a `DefinitionError` naming the first fault. */
export function validateNotify(raw: unknown): NotifyEndpointConfig[] | undefined {
  const notify = optional(raw);
  if (notify === undefined) return undefined;
  if (!Array.isArray(notify)) throw new DefinitionError('notify must be an array of { url, events }');
  if (notify.length > MAX_NOTIFY_ENDPOINTS) {
    throw new DefinitionError(`notify: at most ${MAX_NOTIFY_ENDPOINTS} endpoints are allowed, got ${notify.length}`);
  }
  const seen = new Map<string, number>();
  return notify.map((entry: unknown, index) => {
    const at = `notify[${index}]`;
    const endpoint = validateEndpoint(entry, at);
    const earlier = seen.get(endpoint.url);
    // Endpoints are keyed by URL (each keeps its own signing secret): one URL is one endpoint.
    if (earlier !== undefined) throw new DefinitionError(`${at}: duplicate url (also notify[${earlier}])`);
    seen.set(endpoint.url, index);
    return endpoint;
  });
}

/** `url` as hookrun sends to it: an absolute http(s) URL without credentials. The SSRF guard vets it at delivery. */
export function notifyUrlProblem(url: string): string | null {
  if (url.length > MAX_NOTIFY_URL_LENGTH) return `must be at most ${MAX_NOTIFY_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return `must use https: or http:, not ${JSON.stringify(parsed.protocol)}`;
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not contain credentials (user:password@)';
  if (parsed.hash !== '') return 'must not have a fragment (#...)';
  return null;
}

export function notifyEventsProblem(events: unknown): string | null {
  if (!Array.isArray(events) || events.length === 0) {
    return `must be a non-empty array of ${NOTIFY_EVENTS.map((e) => JSON.stringify(e)).join(', ')}`;
  }
  const unknown = events.find((event) => !(NOTIFY_EVENTS as readonly unknown[]).includes(event));
  if (unknown !== undefined) {
    return `has unknown event ${JSON.stringify(unknown)} (known events: ${NOTIFY_EVENTS.join(', ')})`;
  }
  return null;
}

function validateEndpoint(raw: unknown, at: string): NotifyEndpointConfig {
  if (!isObject(raw)) throw new DefinitionError(`${at}: must be an object { url, events }`);
  rejectUnknownKeys(raw, ENDPOINT_KEYS, at);
  if (optional(raw.url) === undefined) throw new DefinitionError(`${at}: missing url`);
  if (typeof raw.url !== 'string') throw new DefinitionError(`${at}: url must be a string`);
  const urlProblem = notifyUrlProblem(raw.url);
  // The URL is not quoted: its path or query may hold a token.
  if (urlProblem !== null) throw new DefinitionError(`${at}: url ${urlProblem}`);
  if (optional(raw.events) === undefined) throw new DefinitionError(`${at}: missing events`);
  const eventsProblem = notifyEventsProblem(raw.events);
  if (eventsProblem !== null) throw new DefinitionError(`${at}: events ${eventsProblem}`);
  // Deduplicated, in the canonical order: the stored definition compares equal however the events were listed.
  const events = NOTIFY_EVENTS.filter((event) => (raw.events as unknown[]).includes(event));
  return { url: raw.url, events };
}
