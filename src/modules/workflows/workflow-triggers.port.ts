export interface WorkflowTriggerSummary {
  slug: string;
  scheme: string;
  enabled: boolean;
}

// Triggers belong to the webhooks module, which depends on this one: it provides this port.
export interface WorkflowTriggerSummaries {
  summariesOf(workflowIds: readonly string[]): Promise<Map<string, WorkflowTriggerSummary>>;
}

export const WORKFLOW_TRIGGER_SUMMARIES = Symbol('WorkflowTriggerSummaries');
