import type { S3Client } from '@aws-sdk/client-s3';
import type { AccessRequestedV1 } from '../../events';
import type { LogEntry } from '../processing-log/writer';
import type { OperationContext } from './context';
import { openSubjectRequest } from './subject-request';
import { SubjectExporter } from './subject-export';

/** Options of the {@link AccessRequestOperation}. */
export interface AccessRequestOptions {
  readonly s3: S3Client;
  readonly exportBucket: string;
}

/**
 * `privacy.access.requested.v1` (GDPR Art. 15 and 20): records the request (deadline =
 * receipt + one month), writes a machine-readable export (JSON manifest + decrypted documents,
 * restricted ones included) to the export bucket, logs one `exported` record per document and
 * completes the request. Re-running it rewrites the same export keys.
 */
export class AccessRequestOperation {
  private readonly exporter: SubjectExporter;

  constructor(
    private readonly ctx: OperationContext,
    options: AccessRequestOptions,
  ) {
    this.exporter = new SubjectExporter(ctx, options.s3, options.exportBucket);
  }

  /** Applies one access request. */
  async handle(event: AccessRequestedV1): Promise<LogEntry[]> {
    const { store } = this.ctx;
    const { tenant, subject, requestId, deadline, common, request } = await openSubjectRequest(
      this.ctx,
      event,
      'access',
    );
    const result = await this.exporter.export({
      tenant,
      subject,
      subjectId: event.data.subjectId,
      kind: 'access',
      exportId: requestId,
      requestId,
      requestIdInClear: event.data.requestId,
      deadline,
    });
    const completed = await store.completeRequest(
      request,
      this.ctx.now().toISOString(),
      `exported:${result.documents}`,
    );
    return [
      { ...common, operation: 'received', outcome: 'success' },
      ...result.entries.map((e) => ({ ...e, ...common })),
      {
        ...common,
        operation: 'request-completed',
        outcome: 'success',
        reason: `${completed.outcome}${completed.completedAt! > deadline ? ';late' : ''}`,
      },
    ];
  }
}
