// Writes the prebuilt Temporal workflow bundle to a file (default dist/workflow-bundle.js) so the
// production worker can start without bundling (SLIPWAY_WORKFLOW_BUNDLE). Used by the Dockerfile.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from './create-worker.ts';

const out = resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
const { code } = await bundleWorkflowCode({ workflowsPath });
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
process.stdout.write(`workflow bundle written: ${out} (${code.length} bytes)\n`);
