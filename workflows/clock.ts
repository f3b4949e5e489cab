// Time inside workflows. Temporal's sandbox makes Date deterministic: it returns the time of the
// current workflow task, identical on replay. All workflow code reads time through here.
export function workflowNow(): number {
  // eslint-disable-next-line no-restricted-properties -- the one sanctioned read of the sandbox clock
  return Date.now();
}

export function workflowIsoNow(): string {
  return new Date(workflowNow()).toISOString();
}
