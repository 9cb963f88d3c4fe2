/** What stands for a secret's value wherever hookrun stores or shows text that held it. */
export function redactionMark(name: string): string {
  return `[redacted:${name}]`;
}

/**
 * Replaces every occurrence of the given secrets' values (as sent, and percent- or JSON-escaped) with
 * `[redacted:NAME]`, in text and in JSON values (strings and object keys). Longer values are replaced first, so
 * that a secret containing another is replaced whole.
 */
export class SecretRedactor {
  private readonly labels = new Map<string, string>();
  private readonly pattern: RegExp | null;

  /** `derived`: values computed from a secret (a header holding its base64), redacted whole under its mark. */
  constructor(
    private readonly secrets: Iterable<readonly [name: string, value: string]>,
    private readonly derived: Iterable<readonly [name: string, value: string]> = [],
  ) {
    for (const [name, value] of secrets) {
      for (const form of formsOf(value)) if (!this.labels.has(form)) this.labels.set(form, redactionMark(name));
    }
    for (const [name, value] of derived) {
      // Short ones ("yes", "true") would blank out ordinary words of every response.
      if (value.length >= MIN_DERIVED_LENGTH && !this.labels.has(value)) this.labels.set(value, redactionMark(name));
    }
    this.pattern = this.compile();
  }

  /** This redactor, plus `derived` values. */
  with(derived: Iterable<readonly [name: string, value: string]>): SecretRedactor {
    return new SecretRedactor(this.secrets, [...this.derived, ...derived]);
  }

  get empty(): boolean {
    return this.pattern === null;
  }

  /** Whether `text` holds one of the values. */
  finds(text: string): boolean {
    if (this.pattern === null) return false;
    this.pattern.lastIndex = 0;
    return this.pattern.test(text);
  }

  text(text: string): string {
    if (this.pattern === null) return text;
    return text.replace(this.pattern, (found) => this.labels.get(found) ?? found);
  }

  /** A copy of a JSON value with every string and key redacted; other values as they are. */
  value<T>(value: T): T {
    if (this.pattern === null) return value;
    return this.walk(value) as T;
  }

  /** Redacts an error's message and stack in place, so that it stays the same error (its class, its code). */
  error<E>(error: E): E {
    if (this.pattern === null || !(error instanceof Error)) return error;
    if (this.finds(error.message)) error.message = this.text(error.message);
    if (typeof error.stack === 'string' && this.finds(error.stack)) error.stack = this.text(error.stack);
    return error;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (typeof value !== 'object' || value === null) return value;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // defineProperty: a "__proto__" key from a response body must stay data, not become the copy's prototype.
      Object.defineProperty(copy, this.text(key), {
        value: this.walk(item),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return copy;
  }

  private compile(): RegExp | null {
    if (this.labels.size === 0) return null;
    const forms = [...this.labels.keys()].sort((a, b) => b.length - a.length);
    return new RegExp(forms.map(escapeRegExp).join('|'), 'g');
  }
}

const MIN_DERIVED_LENGTH = 8;

/** The value as sent, and as it reads once percent-encoded (a URL) or escaped inside a JSON string. */
function formsOf(value: string): string[] {
  if (value === '') return [];
  const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
  return [...forms];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
