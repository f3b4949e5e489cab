// A component of the local stack: something `up` starts, `status` checks and `down` stops.
import type { StackConfig } from './config.ts';

export interface Component {
  /** Name used for its pid file and log file. */
  readonly name: string;
  /** Starts it (or sets it up) and resolves once it is healthy. Called only when not healthy. */
  up(config: StackConfig): Promise<void>;
  /** True when it answers as it should. */
  healthy(config: StackConfig): Promise<boolean>;
  /** Stops what `up` started. */
  down(config: StackConfig): Promise<void>;
  /** One line for `status`: where it listens. */
  describe(config: StackConfig): string;
  /** `export` lines for `env`. */
  env?(config: StackConfig): Record<string, string>;
  /**
   * Whether this configuration wants it (default: always). When not, `up`, `status` and `env` leave
   * it out; `down` still stops it if it runs.
   */
  enabled?(config: StackConfig): boolean;
}
