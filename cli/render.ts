// Drawing a release's status: the live view of `--watch` on a terminal (renderStatus) and the
// plain change lines when stdout is not a terminal (changeLines). Pure: status in, lines out.
import type { Measurement, PassRange } from '../workflows/gates/evaluation.ts';
import type { ReleaseStatus, Stage } from '../workflows/status.ts';

const STAGES: readonly Stage[] = ['build', 'shadow', 'canary', 'promote'];
const BAR_WIDTH = 30;

export function describeThreshold(range: PassRange | undefined): string {
  if (!range) return '';
  if (range.min !== undefined && range.max !== undefined) return `[${range.min}, ${range.max}]`;
  if (range.min !== undefined) return `≥ ${range.min}`;
  if (range.max !== undefined) return `≤ ${range.max}`;
  return 'any';
}

function formatValue(value: number | undefined): string {
  if (value === undefined) return 'no data';
  return Math.abs(value) >= 1000 || value === 0 ? String(value) : String(Number(value.toPrecision(4)));
}

const MARK = { pass: '✓', fail: '✗', inconclusive: '?' } as const;

/** One gate's latest measurement: verdict mark, value, threshold (or the judge's words). */
export function describeMeasurement(m: Measurement): string {
  const threshold = m.threshold ? ` (pass ${describeThreshold(m.threshold)})` : '';
  const judged = m.provider === 'judge' ? ` — ${m.reason}` : '';
  return `${MARK[m.verdict]} ${m.gate} = ${formatValue(m.value)}${threshold}${judged}`;
}

export function weightsBar(weights: { stable: number; canary: number }, width = BAR_WIDTH): string {
  const canary = Math.round((weights.canary / 100) * width);
  return `stable ${weights.stable}% ${'█'.repeat(width - canary)}${'░'.repeat(canary)} canary ${weights.canary}%`;
}

function stageLine(status: ReleaseStatus): string {
  const current = status.stage === 'done' || status.stage === 'rollback' ? -1 : STAGES.indexOf(status.stage);
  const parts = STAGES.map((stage, index) => {
    if (status.stage === 'done') return status.outcome?.result === 'Promoted' ? `${stage} ✓` : stage;
    if (index < current) return `${stage} ✓`;
    if (index === current) return `[${stage}]`;
    return stage;
  });
  const tail = status.stage === 'rollback' ? ' → [rollback]' : '';
  return `${parts.join(' → ')}${tail}`;
}

/** The full live view, one string per line. */
export function renderStatus(status: ReleaseStatus, approveHint?: string): string[] {
  const lines = [
    `${status.model} ${status.version} in ${status.namespace}${status.stableVersion ? ` (stable ${status.stableVersion})` : ' (first release)'} — ${status.phase}`,
    `stages   ${stageLine(status)}`,
  ];
  if (status.step) lines.push(`step     ${status.step.index}/${status.step.total} ${status.step.description}`);
  lines.push(`traffic  ${weightsBar(status.weights)}`);
  if (status.mirrorPercent !== null) lines.push(`mirror   ${status.mirrorPercent}% of requests mirrored to ${status.version}`);
  const gates = Object.values(status.gates).filter((g) => g.last);
  gates.forEach((gate, index) => lines.push(`${index === 0 ? 'gates    ' : '         '}${describeMeasurement(gate.last!)} [${gate.status}]`));
  if (status.waitingFor) {
    const deadline = status.waitingFor.deadline ? ` (until ${status.waitingFor.deadline})` : '';
    lines.push(`waiting  ${status.waitingFor.kind}: ${status.waitingFor.what}${deadline}`);
    if (status.waitingFor.kind === 'approval' && approveHint) lines.push(`         ${approveHint}`);
  }
  for (const entry of status.timeline.slice(-4)) lines.push(`  ${entry.at.slice(11, 19)} ${entry.stage.padEnd(8)} ${entry.message}`);
  if (status.outcome) lines.push(...outcomeLines(status));
  return lines;
}

export function outcomeLines(status: ReleaseStatus): string[] {
  const outcome = status.outcome;
  if (!outcome) return [];
  const lines = [`outcome  ${outcome.result}: ${outcome.reason}`];
  const m = outcome.decidingMeasurement;
  if (m) lines.push(`decided by ${describeMeasurement(m)}${m.query ? ` — query: ${m.query}` : ''}`);
  return lines;
}

/** Plain lines for what changed between two statuses (`previous` undefined = the first one seen). */
export function changeLines(previous: ReleaseStatus | undefined, next: ReleaseStatus): string[] {
  const lines: string[] = [];
  const time = next.updatedAt.slice(11, 19);
  const say = (text: string) => lines.push(`${time} ${text}`);
  if (!previous) say(`${next.model} ${next.version} in ${next.namespace}: stage ${next.stage}, ${next.phase}`);
  else {
    if (previous.stage !== next.stage) say(`stage ${next.stage}`);
    if (previous.phase !== next.phase && !next.outcome) say(`phase ${next.phase}`);
  }
  if (next.step && (previous?.step?.index !== next.step.index)) say(`step ${next.step.index}/${next.step.total} ${next.step.description}`);
  // The first status shows the weights when traffic has moved already; later ones when they change.
  const weightsChanged = previous ? previous.weights.canary !== next.weights.canary || previous.weights.stable !== next.weights.stable : next.weights.canary !== 0;
  if (weightsChanged) say(`weights stable ${next.weights.stable}% canary ${next.weights.canary}%`);
  if ((previous?.mirrorPercent ?? null) !== next.mirrorPercent) say(next.mirrorPercent === null ? 'mirror off' : `mirror ${next.mirrorPercent}%`);
  for (const [name, gate] of Object.entries(next.gates)) {
    const before = previous?.gates[name];
    const last = gate.last;
    if (last && (before?.last?.verdict !== last.verdict || before.status !== gate.status)) say(`gate ${describeMeasurement(last)} [${gate.status}]`);
  }
  if (next.waitingFor && previous?.waitingFor?.what !== next.waitingFor.what) say(`waiting for ${next.waitingFor.kind}: ${next.waitingFor.what}`);
  if (next.outcome && !previous?.outcome) lines.push(...outcomeLines(next).map((line) => `${time} ${line}`));
  return lines;
}
