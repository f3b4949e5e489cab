// The rollback saga: each stage registers the compensation of what it changed, as it changes it.
// Rollback runs them by rank (not by registration order): traffic first (users off the candidate at
// once), then the stable Deployment restored, then the candidate removed.
import { log } from '@temporalio/workflow';

export const CompensationRank = {
  traffic: 10,
  stable: 20,
  candidate: 30,
} as const;

interface Compensation {
  name: string;
  rank: number;
  run: () => Promise<void>;
}

export class Saga {
  private readonly compensations = new Map<string, Compensation>();

  /** Registers (or replaces, by name) a compensation. */
  register(name: string, rank: number, run: () => Promise<void>): void {
    this.compensations.set(name, { name, rank, run });
  }

  forget(name: string): void {
    this.compensations.delete(name);
  }

  names(): string[] {
    return this.ordered().map((c) => c.name);
  }

  private ordered(): Compensation[] {
    return [...this.compensations.values()].sort((a, b) => a.rank - b.rank);
  }

  /**
   * Runs every compensation in rank order. A failing one is logged and the rest still run; the
   * errors are returned. (Their activities retry until they succeed, so this is the exception.)
   */
  async compensate(onStep: (name: string) => void): Promise<string[]> {
    const errors: string[] = [];
    for (const c of this.ordered()) {
      onStep(c.name);
      try {
        await c.run();
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.error('compensation failed', { compensation: c.name, error: message });
        errors.push(`${c.name}: ${message}`);
      }
    }
    this.compensations.clear();
    return errors;
  }
}
