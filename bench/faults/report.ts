// The fault bench's report, from the proxy's log and the releases' outcomes: per fault kind what was
// injected and what survived it (the client's follow-up: a retry, no sooner than Retry-After for a
// 429; a watch or read again after a cut or a 410; a held request waited for), how many models it
// hit and how many of those ended correctly; per kind of release how many ended correctly and how
// long they took against their deadline (and without faults). As JSON and as a Markdown table.
import type { FaultEvent } from '../../infra/local/faults/log.ts';
import type { FaultKind, FaultPlan } from '../../infra/local/faults/plan.ts';
import type { FaultStats } from '../../infra/local/faults/proxy.ts';
import { FAULT_KINDS, summarizeFaults, type KindSummary } from '../../infra/local/faults/summary.ts';
import { summary } from '../local-worker.ts';

export interface ReleaseRecord {
  /** `good gateway-api`, `bad replica-ratio`… */
  kind: string;
  namespace: string;
  /** The first release (v1) was promoted. */
  setupPromoted: boolean;
  /** The measured release (v2) ended as its kind must, in the cluster. */
  correct: boolean;
  problems: string[];
  durationMs: number;
  deadlineMs: number;
  /** It did not end within its deadline (and was terminated). */
  late: boolean;
}

export interface FaultRow extends KindSummary {
  kind: FaultKind;
  /** Models (namespaces) with at least one such fault, and how many of them ended correctly (v1 and v2). */
  modelsHit: number;
  modelsHitCorrect: number;
  /**
   * throttle only: repeats sooner than Retry-After of a request naming one namespace (one release's:
   * an early retry), and of a cluster-wide one (nodes, all pods: every release's preflight sends the
   * same, so a repeat may be another release's read).
   */
  earlyNamespaced?: number;
  earlyClusterWide?: number;
}

export interface ReleaseRow {
  kind: string;
  n: number;
  correct: number;
  medianS: number;
  worstS: number;
  deadlineS: number;
  late: number;
  faultFreeMedianS: number | null;
}

export interface FaultReport {
  benchmark: 'apiserver-faults';
  releases: number;
  concurrency: number;
  plan: FaultPlan;
  requests: number;
  watches: number;
  /** Faults on requests outside the bench's namespaces (cluster-scoped reads). */
  unattributedFaults: number;
  faults: FaultRow[];
  byKind: ReleaseRow[];
  allCorrect: boolean;
  longestS: number;
  deadlineS: number;
  late: number;
  problems: Array<{ namespace: string; kind: string; problems: string[] }>;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

export function buildReport(input: {
  plan: FaultPlan;
  concurrency: number;
  stats: Pick<FaultStats, 'requests' | 'watches' | 'events'>;
  releases: ReleaseRecord[];
  baseline: ReleaseRecord[];
}): FaultReport {
  const { stats, releases, baseline } = input;
  const ok = new Map(releases.map((r) => [r.namespace, r.setupPromoted && r.correct]));
  const perKind = summarizeFaults(stats.events);
  const byNamespace = (kind: FaultKind): Set<string> =>
    new Set(
      stats.events
        .filter((e: FaultEvent) => e.kind === kind && e.namespace && ok.has(e.namespace))
        .map((e) => e.namespace ?? ''),
    );
  const faults = FAULT_KINDS.map((kind): FaultRow => {
    const hit = byNamespace(kind);
    const early = perKind[kind].early;
    const namespaced = early?.filter((e) => e.request.includes('/namespaces/')).length;
    return {
      kind,
      ...perKind[kind],
      modelsHit: hit.size,
      modelsHitCorrect: [...hit].filter((ns) => ok.get(ns)).length,
      ...(early && namespaced !== undefined
        ? { earlyNamespaced: namespaced, earlyClusterWide: early.length - namespaced }
        : {}),
    };
  });
  const kinds = [...new Set(releases.map((r) => r.kind))];
  const byKind = kinds.map((kind): ReleaseRow => {
    const mine = releases.filter((r) => r.kind === kind);
    const free = baseline.filter((r) => r.kind === kind).map((r) => r.durationMs);
    const s = summary(mine.map((r) => r.durationMs));
    return {
      kind,
      n: mine.length,
      correct: mine.filter((r) => r.setupPromoted && r.correct).length,
      medianS: seconds(s.median),
      worstS: seconds(s.worst),
      deadlineS: seconds(Math.max(...mine.map((r) => r.deadlineMs))),
      late: mine.filter((r) => r.late).length,
      faultFreeMedianS: free.length ? seconds(summary(free).median) : null,
    };
  });
  const longest = [...releases].sort((a, b) => b.durationMs - a.durationMs)[0];
  return {
    benchmark: 'apiserver-faults',
    releases: releases.length,
    concurrency: input.concurrency,
    plan: input.plan,
    requests: stats.requests,
    watches: stats.watches,
    unattributedFaults: stats.events.filter((e) => !e.namespace || !ok.has(e.namespace)).length,
    faults,
    byKind,
    allCorrect: releases.every((r) => r.setupPromoted && r.correct),
    longestS: longest ? seconds(longest.durationMs) : 0,
    deadlineS: longest ? seconds(longest.deadlineMs) : 0,
    late: releases.filter((r) => r.late).length,
    problems: releases
      .filter((r) => !r.setupPromoted || !r.correct)
      .map((r) => ({ namespace: r.namespace, kind: r.kind, problems: r.problems })),
  };
}

const FAULT_LABELS: Record<FaultKind, string> = {
  throttle: '429 + Retry-After',
  serverError: '500 / 503',
  reset: 'connection reset',
  slow: 'slow answer',
  dropWatch: 'watch cut',
  goneOnResume: '410 Gone on resume',
};

const SURVIVED: Record<FaultKind, string> = {
  throttle: 'asked again',
  serverError: 'asked again',
  reset: 'asked again',
  slow: 'waited for',
  dropWatch: 'watched or read again',
  goneOnResume: 'watched or read again',
};

const ms = (value: number | null) => (value === null ? '—' : String(value));

export function reportTable(report: FaultReport): string {
  const lines = [
    `${report.releases} releases (${report.concurrency} at a time), seed ${report.plan.seed}; ${report.requests} requests (${report.watches} watches) through the proxy`,
    '',
    '| fault | injected | what survived | not followed up | median / max ms to it | models hit | of those ended correctly |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const f of report.faults) {
    const survived =
      f.kind === 'throttle'
        ? `${f.followedUp} ${SURVIVED[f.kind]}, ${f.honouredRetryAfter ?? 0} no sooner than Retry-After (sooner: ${f.earlyNamespaced ?? 0} of one release, ${f.earlyClusterWide ?? 0} cluster-wide)`
        : `${f.followedUp} ${SURVIVED[f.kind]}`;
    const gaps = f.kind === 'slow' ? '—' : `${ms(f.medianFollowUpMs)} / ${ms(f.maxFollowUpMs)}`;
    lines.push(
      `| ${FAULT_LABELS[f.kind]} | ${f.injected} | ${survived} | ${f.notFollowedUp} | ${gaps} | ${f.modelsHit} | ${f.modelsHitCorrect} |`,
    );
  }
  lines.push(
    '',
    '| release | n | ended correctly | median s | worst s | deadline s | late | fault-free median s |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const r of report.byKind)
    lines.push(
      `| ${r.kind} | ${r.n} | ${r.correct} | ${r.medianS} | ${r.worstS} | ${r.deadlineS} | ${r.late} | ${r.faultFreeMedianS ?? '—'} |`,
    );
  lines.push(
    '',
    `all ended correctly: ${report.allCorrect ? 'yes' : 'no'}; longest release ${report.longestS} s of its ${report.deadlineS} s deadline; late: ${report.late}; faults outside the bench's namespaces: ${report.unattributedFaults}`,
  );
  for (const p of report.problems) lines.push(`- ${p.kind} (${p.namespace}): ${p.problems.join('; ')}`);
  return lines.join('\n');
}
