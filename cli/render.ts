// Drawing a release's status: the live view of `--watch` on a terminal (renderStatus) and the
// plain change lines when stdout is not a terminal (changeLines). Pure: status in, lines out. Every
// field beyond the release's identity may be absent (a release that failed before it could run, or
// one recorded by an older worker) and is then left out.
import { FORWARD_STAGES, FORWARD_STAGES_OF, STRATEGIES, type Strategy } from '../workflows/vocabulary.ts';
import type { MeasurementView, StatusView } from './status-view.ts';

const BAR_WIDTH = 30;

export function describeThreshold(
  range: { min?: number | undefined; max?: number | undefined } | undefined,
): string {
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

const MARK: Record<string, string> = { pass: '✓', fail: '✗', inconclusive: '?', error: '!' };

/** One gate's latest measurement: verdict mark, value, threshold (or the judge's words). */
export function describeMeasurement(m: MeasurementView): string {
  const threshold = m.threshold ? ` (pass ${describeThreshold(m.threshold)})` : '';
  const judged = m.provider === 'judge' && m.reason ? ` — ${m.reason}` : '';
  return `${MARK[m.verdict] ?? m.verdict} ${m.gate} = ${formatValue(m.value)}${threshold}${judged}`;
}

export function weightsBar(weights: { stable: number; canary: number }, width = BAR_WIDTH): string {
  const canary = Math.round((weights.canary / 100) * width);
  return `stable ${weights.stable}% ${'█'.repeat(width - canary)}${'░'.repeat(canary)} canary ${weights.canary}%`;
}

function stageLine(status: StatusView): string {
  const strategy = (STRATEGIES as readonly string[]).includes(status.strategy ?? '')
    ? (status.strategy as Strategy)
    : undefined;
  const forward: readonly string[] = strategy ? FORWARD_STAGES_OF[strategy] : FORWARD_STAGES;
  const current = forward.indexOf(status.stage);
  const parts = forward.map((stage, index) => {
    if (status.stage === 'done') return status.outcome?.result === 'Promoted' ? `${stage} ✓` : stage;
    if (current >= 0 && index < current) return `${stage} ✓`;
    if (index === current) return `[${stage}]`;
    return stage;
  });
  const tail = status.stage === 'rollback' ? ' → [rollback]' : '';
  return `${parts.join(' → ')}${tail}`;
}

const until = (deadline: string | undefined) => (deadline ? ` (until ${deadline})` : '');
const clock = (iso: string | undefined) => (iso ? iso.slice(11, 19) : '');

function headline(status: StatusView): string {
  const stable = status.stableVersion
    ? ` (stable ${status.stableVersion})`
    : status.firstRelease
      ? ' (first release)'
      : '';
  const retry = status.retryOf ? `, retry of run ${status.retryOf}` : '';
  return `${status.model} ${status.version} in ${status.namespace}${stable}${retry} — ${status.phase}`;
}

/** Why the release is not moving, what a person decides now and a pending promote-now. */
function waitLines(status: StatusView, approveHint: string | undefined): string[] {
  const lines: string[] = [];
  const reasons = status.pauseReasons ?? [];
  if (reasons.length > 0) {
    reasons.forEach((r, index) => {
      const by = r.by ? ` (by ${r.by})` : '';
      lines.push(
        `${index === 0 ? 'held     ' : '         '}${r.reason}: ${r.message}${by}${until(r.deadline)}`,
      );
    });
  } else if (status.waitingFor) {
    lines.push(
      `waiting  ${status.waitingFor.kind}: ${status.waitingFor.what}${until(status.waitingFor.deadline)}`,
    );
  }
  const decision = status.pendingDecision;
  if (decision) {
    const what =
      decision.decides === 'gate-verdict' ? 'gate verdict (approve goes on, reject rolls back)' : 'approval';
    lines.push(`decide   ${what}: ${decision.what}${until(decision.deadline)}`);
  }
  const asksApproval =
    decision !== undefined ||
    (status.pendingDecision === undefined &&
      status.pauseReasons === undefined &&
      status.waitingFor?.kind === 'approval');
  if (asksApproval && approveHint) lines.push(`         ${approveHint}`);
  if (status.promoteNow)
    lines.push(
      `promote  promote-now requested by ${status.promoteNow.by} at ${clock(status.promoteNow.at)} (pending)`,
    );
  return lines;
}

/** The full live view, one string per line. */
export function renderStatus(status: StatusView, approveHint?: string): string[] {
  const lines = [headline(status), `stages   ${stageLine(status)}`];
  if (status.step)
    lines.push(`step     ${status.step.index}/${status.step.total} ${status.step.description}`);
  if (status.weights) lines.push(`traffic  ${weightsBar(status.weights)}`);
  if (status.downtime)
    lines.push(
      `downtime since ${clock(status.downtime.since)}, expected up to ${status.downtime.expectedSeconds}s: ${status.downtime.message}`,
    );
  if (status.warmStandby)
    lines.push(
      `standby  ${status.warmStandby.version} kept warm until ${clock(status.warmStandby.until)}: a rollback flips the route back`,
    );
  if (status.mirrorPercent !== undefined && status.mirrorPercent !== null) {
    lines.push(`mirror   ${status.mirrorPercent}% of requests mirrored to ${status.version}`);
  }
  const gates = Object.values(status.gates ?? {}).filter((g) => g.last);
  gates.forEach((gate, index) =>
    lines.push(
      `${index === 0 ? 'gates    ' : '         '}${describeMeasurement(gate.last!)} [${gate.status}]`,
    ),
  );
  if (!status.outcome) lines.push(...waitLines(status, approveHint));
  for (const entry of (status.timeline ?? []).slice(-4))
    lines.push(`  ${clock(entry.at)} ${entry.stage.padEnd(8)} ${entry.message}`);
  if (status.outcome) lines.push(...outcomeLines(status));
  return lines;
}

export function outcomeLines(status: StatusView): string[] {
  const outcome = status.outcome;
  if (!outcome) return [];
  const type = outcome.result === 'Failed' && outcome.failureType ? ` [${outcome.failureType}]` : '';
  const lines = [`outcome  ${outcome.result}: ${outcome.reason}${type}`];
  const m = outcome.decidingMeasurement;
  if (m) lines.push(`decided by ${describeMeasurement(m)}${m.query ? ` — query: ${m.query}` : ''}`);
  if (outcome.result !== 'Promoted')
    lines.push(`retry with: slipway release retry ${status.namespace}/${status.model}`);
  return lines;
}

/** Plain lines for what changed between two statuses (`previous` undefined = the first one seen). */
export function changeLines(previous: StatusView | undefined, next: StatusView): string[] {
  const lines: string[] = [];
  const time = clock(next.updatedAt ?? next.outcome?.at ?? new Date().toISOString());
  const say = (text: string) => lines.push(`${time} ${text}`);
  if (!previous)
    say(
      `${next.model} ${next.version} in ${next.namespace}: stage ${next.stage}, ${next.phase}${next.retryOf ? ` (retry of run ${next.retryOf})` : ''}`,
    );
  else {
    if (previous.stage !== next.stage) say(`stage ${next.stage}`);
    if (previous.phase !== next.phase && !next.outcome) say(`phase ${next.phase}`);
  }
  if (next.step && previous?.step?.index !== next.step.index)
    say(`step ${next.step.index}/${next.step.total} ${next.step.description}`);
  // The first status shows the weights when traffic has moved already; later ones when they change.
  if (next.weights) {
    const before = previous?.weights;
    const weightsChanged = before
      ? before.canary !== next.weights.canary || before.stable !== next.weights.stable
      : next.weights.canary !== 0;
    if (weightsChanged) say(`weights stable ${next.weights.stable}% canary ${next.weights.canary}%`);
  }
  if (next.mirrorPercent !== undefined && (previous?.mirrorPercent ?? null) !== next.mirrorPercent) {
    say(next.mirrorPercent === null ? 'mirror off' : `mirror ${next.mirrorPercent}%`);
  }
  for (const [name, gate] of Object.entries(next.gates ?? {})) {
    const before = previous?.gates?.[name];
    const last = gate.last;
    if (last && (before?.last?.verdict !== last.verdict || before.status !== gate.status))
      say(`gate ${describeMeasurement(last)} [${gate.status}]`);
  }
  if (next.waitingFor && previous?.waitingFor?.what !== next.waitingFor.what)
    say(`waiting for ${next.waitingFor.kind}: ${next.waitingFor.what}`);
  // waitingFor shows the first pause reason; the others are told when they begin.
  const heldBefore = new Set((previous?.pauseReasons ?? []).map((r) => `${r.reason}\n${r.message}`));
  for (const r of (next.pauseReasons ?? []).slice(next.waitingFor ? 1 : 0)) {
    if (!heldBefore.has(`${r.reason}\n${r.message}`))
      say(`also held: ${r.reason}: ${r.message}${r.by ? ` (by ${r.by})` : ''}`);
  }
  const decision = next.pendingDecision;
  if (decision?.decides === 'gate-verdict' && previous?.pendingDecision?.what !== decision.what) {
    say(`decide the gate verdict: ${decision.what} (approve goes on, reject rolls back)`);
  }
  if (next.promoteNow && !previous?.promoteNow) say(`promote-now requested by ${next.promoteNow.by}`);
  if (next.outcome && !previous?.outcome) lines.push(...outcomeLines(next).map((line) => `${time} ${line}`));
  return lines;
}
