// The peer bench's figures as rows (medians, p90s, per-release requests), the ratios of Slipway's to
// each peer's, and a Markdown table per routing. Pure.
import { summary } from '../local-worker.ts';
import { AFTER_MS, type ToolFigures } from './parts.ts';

export const TOOL_NAMES: Readonly<Record<string, string>> = {
  slipway: 'Slipway',
  'argo-rollouts': 'Argo Rollouts',
  flagger: 'Flagger',
};

const round = (x: number) => Math.round(x * 100) / 100;

export function toRow(t: ToolFigures) {
  return {
    tool: t.tool,
    version: t.version,
    releases: t.releases,
    reactionMs: summary(t.reactionMs),
    overheadPerStepMs: summary(t.overheadPerStepMs),
    apiserverRequests: { ...t.requests, perRelease: round(t.requests.total / t.releases) },
    apiserverRequestsOtherClients: t.apiserverRequestsOtherClients,
    memoryMiB: { peak: t.memory.peakMiB, end: t.memory.lastMiB },
    durationMs: t.durationMs,
    /** The tool's requests in the AFTER_MS after its last release, per model (every model then idle or cleaning up). */
    requestsAfterPerModel: round(t.requestsAfter / (t.releases / 3)),
    badPromoted: t.badPromoted,
    anomalies: t.anomalies,
  };
}
export type Row = ReturnType<typeof toRow>;

/** a / b, or null when either is missing, b is not positive or a is negative (no ratio of a negative figure). */
export function ratio(a: number | undefined, b: number | undefined): number | null {
  return a !== undefined && b !== undefined && Number.isFinite(a) && b > 0 && a >= 0 ? round(a / b) : null;
}

export function ratios(s: Row, peer: Row) {
  return {
    reaction: ratio(s.reactionMs.median, peer.reactionMs.median),
    overheadPerStep: ratio(s.overheadPerStepMs.median, peer.overheadPerStepMs.median),
    apiserverRequestsPerRelease: ratio(s.apiserverRequests.perRelease, peer.apiserverRequests.perRelease),
    apiserverRequestsOtherClients: ratio(s.apiserverRequestsOtherClients, peer.apiserverRequestsOtherClients),
    peakMemory: ratio(s.memoryMiB.peak, peer.memoryMiB.peak),
    requestsAfterPerModel: ratio(s.requestsAfterPerModel, peer.requestsAfterPerModel),
  };
}
export type Ratios = ReturnType<typeof ratios>;

const med = (x: Row['reactionMs']) => `${x.median} (p90 ${x.p90}, n ${x.n})`;

/** A Markdown table: one column per tool, then Slipway / each peer. */
export function table(rows: Row[]): string[] {
  const slipway = rows.find((r) => r.tool === 'slipway');
  const peers = rows.filter((r) => r !== slipway);
  const byPeer = peers.map((p) => (slipway ? ratios(slipway, p) : undefined));
  const name = (r: Row) => TOOL_NAMES[r.tool] ?? r.tool;
  const header = ['figure', ...rows.map(name), ...peers.map((p) => `Slipway / ${name(p)}`)];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  const line = (figure: string, cell: (r: Row) => string, key: keyof Ratios) =>
    lines.push(
      `| ${[figure, ...rows.map(cell), ...byPeer.map((r) => String(r?.[key] ?? 'n/a'))].join(' | ')} |`,
    );
  line('reaction ms, first failing sample → 100% stable', (r) => med(r.reactionMs), 'reaction');
  line('overhead per step ms', (r) => med(r.overheadPerStepMs), 'overheadPerStep');
  line(
    'apiserver requests per release (tool only)',
    (r) => `${r.apiserverRequests.perRelease} (${r.apiserverRequests.total} in ${r.releases})`,
    'apiserverRequestsPerRelease',
  );
  line(
    'apiserver requests during the part, every client but the bench',
    (r) => `${r.apiserverRequestsOtherClients} (${Math.round(r.durationMs / 1000)} s)`,
    'apiserverRequestsOtherClients',
  );
  line('memory MiB, peak (end)', (r) => `${r.memoryMiB.peak} (${r.memoryMiB.end})`, 'peakMemory');
  line(
    `apiserver requests in the ${AFTER_MS / 1000} s after the last release, per model (tool only)`,
    (r) => String(r.requestsAfterPerModel),
    'requestsAfterPerModel',
  );
  const promoted = (r: Row) => `${r.badPromoted} of ${r.releases / 3}`;
  lines.push(`| ${['bad candidates promoted', ...rows.map(promoted), ...peers.map(() => '')].join(' | ')} |`);
  return lines;
}
