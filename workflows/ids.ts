// Names shared by the workflow, the worker, the API and the CLI: task queue, workflow ids and
// search attribute keys. One module so that every caller builds them the same way.
import { defineSearchAttributeKey } from '@temporalio/common';

export const TASK_QUEUE = 'slipway-releases';
export const RELEASE_WORKFLOW_TYPE = 'release';

/**
 * One active release per model: the workflow id is fixed per model, and releases are started with
 * workflowIdConflictPolicy FAIL so that a second start names the active one.
 */
export function releaseWorkflowId(namespace: string, model: string): string {
  return `release/${namespace}/${model}`;
}

export const searchAttributes = {
  model: defineSearchAttributeKey('SlipwayModel', 'KEYWORD'),
  namespace: defineSearchAttributeKey('SlipwayNamespace', 'KEYWORD'),
  version: defineSearchAttributeKey('SlipwayVersion', 'KEYWORD'),
  stage: defineSearchAttributeKey('SlipwayStage', 'KEYWORD'),
  outcome: defineSearchAttributeKey('SlipwayOutcome', 'KEYWORD'),
} as const;

/** `Name=Type` pairs for `temporal server start-dev --search-attribute`. */
export const searchAttributeFlags: readonly string[] = Object.values(searchAttributes).map(
  (key) => `${key.name}=Keyword`,
);
