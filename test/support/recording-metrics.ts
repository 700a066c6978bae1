import type { Metrics } from '@aws-lambda-powertools/metrics';
import { sweepMetrics } from '../../shared/operations/retention-sweep';

/** The EMF document a Powertools `Metrics` prints on a publish. */
export type Emf = ReturnType<Metrics['serializeMetrics']>;

/**
 * The sweeper's real Powertools `Metrics`, recording the EMF document of every publish (locally
 * metrics are disabled, so nothing reaches stdout; the document is what Lambda would print).
 */
export function recordingMetrics(): { metrics: Metrics; emitted: Emf[] } {
  const metrics = sweepMetrics();
  const emitted: Emf[] = [];
  const publish = metrics.publishStoredMetrics.bind(metrics);
  jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
    emitted.push(metrics.serializeMetrics());
    return publish();
  });
  return { metrics, emitted };
}
