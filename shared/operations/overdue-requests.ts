/**
 * The overdue-requests metric (GDPR Art. 12(3): a request is answered within one month): the
 * number of open data-subject requests past their one-month deadline, emitted by the sweeper
 * every run (zero included) in Embedded Metric Format. Infra builds its alarm from the same constant, so the alarm always watches what
 * the sweeper emits. Dependency-free: the CDK app imports it.
 */
export const OVERDUE_REQUESTS_METRIC = {
  /** CloudWatch namespace. */
  namespace: 'PrivacyOps',
  /** Metric name. */
  name: 'OverdueRequests',
  /**
   * Value of the `service` dimension Powertools Metrics adds: the sweeper's service name (its
   * `POWERTOOLS_SERVICE_NAME`), set explicitly on its `Metrics` so no environment can change it.
   */
  service: 'retention-sweep',
} as const;
