// Every workflow the worker registers. The worker bundles this file.
export { release } from './release.ts';
export { promoteOnSchedule } from './promote-on-schedule.ts';
