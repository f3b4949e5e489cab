// The id of a model's promotion schedule: shared by the API (which creates it) and the activity
// that removes it when the release ends.
export function promotionScheduleId(namespace: string, model: string): string {
  return `promotion/${namespace}/${model}`;
}
