import { Presets, SingleBar } from 'cli-progress';

/**
 * The handoff progress bar on stderr. cli-progress draws nothing when stderr is not a terminal, so
 * scripts and tests get only the summary on stdout.
 */
export function handoffBar(label: string): SingleBar {
  return new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} keys | {phase}`,
    hideCursor: true,
    etaBuffer: 20,
  }, Presets.shades_classic);
}
