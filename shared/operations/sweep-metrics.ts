/**
 * The pipeline's own metrics, all in one CloudWatch namespace, emitted by the retention sweeper
 * every run (zero included, so each alarm always has data) in Embedded Metric Format. Infra builds
 * the alarms from the same constants, so an alarm always watches what the sweeper emits.
 * Dependency-free: the CDK app imports it.
 */
export const SWEEP_METRICS = {
  /** CloudWatch namespace of every metric the pipeline emits. */
  namespace: 'PrivacyOps',
  /**
   * Value of the `service` dimension Powertools Metrics adds: the sweeper's service name (its
   * `POWERTOOLS_SERVICE_NAME`), set explicitly on its `Metrics` so no environment can change it.
   */
  service: 'retention-sweep',
  /**
   * Open data-subject requests past their one-month deadline (GDPR Art. 12(3): a request is
   * answered within one month).
   */
  overdueRequests: 'OverdueRequests',
  /** Documents whose retention clock waits for the end of a relationship (account closure). */
  waitingForClosure: 'WaitingForClosure',
  /**
   * Age in whole days of the oldest document waiting for a closure (0 when none): a closure the
   * producer never sends shows as an age that only grows.
   */
  oldestWaitingForClosureDays: 'OldestWaitingForClosureDays',
  /**
   * Vault objects older than the reconciliation's grace period that no retention item knew, found
   * by the reconciliation in this run (each is then settled, or left with its reason).
   */
  vaultOrphans: 'VaultOrphans',
} as const;
