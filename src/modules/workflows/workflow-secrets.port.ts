// Step secrets belong to the secrets module, which depends on this one (for `usedBy`): it provides this port.
export interface WorkflowSecretNames {
  /** Those of `names` that exist now. */
  existingOf(names: readonly string[]): Promise<Set<string>>;
}

export const WORKFLOW_SECRET_NAMES = Symbol('WorkflowSecretNames');
