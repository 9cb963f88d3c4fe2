/** Ids a log line is about; pino writes each as a field of the line. */
export interface LogFields {
  runId?: string;
  workflowId?: string;
  requestId?: string;
}

/** A message with the ids it is about, for any Nest logger call: `logger.warn(about({ runId }, '...'))`. */
export interface LogEntry extends LogFields {
  msg: string;
}

// Explicit rather than AsyncLocalStorage: on Node 20 its promise hooks slow every promise in the process.
export function about(fields: LogFields, msg: string): LogEntry {
  return { ...fields, msg };
}

export function isLogEntry(message: unknown): message is LogEntry {
  return typeof message === 'object' && message !== null && typeof (message as LogEntry).msg === 'string';
}
