import { AsyncLocalStorage } from 'node:async_hooks';

/** Ids that every log line written while working on them carries (pino's mixin reads them). */
export interface LogFields {
  runId?: string;
  workflowId?: string;
  requestId?: string;
}

const storage = new AsyncLocalStorage<LogFields>();

/** Runs `work` with `fields` on every log line it writes, including from the promises it starts. */
export function withLogFields<T>(fields: LogFields, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...fields }, work);
}

/** Adds to the fields of the current `withLogFields` (e.g. the workflow, once the run is read). */
export function addLogFields(fields: LogFields): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}

export function currentLogFields(): LogFields {
  return storage.getStore() ?? {};
}
