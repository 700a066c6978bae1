import type { S3Client } from '@aws-sdk/client-s3';
import type { AccessRequestedV1 } from '../../events';
import type { ExportProgress, SubjectRequestContinuedV1 } from '../../events/internal';
import type { Continuation } from '../batch/continuation-queue';
import type { EffectResult } from '../batch/idempotent-step';
import type { OperationContext } from './context';
import { pageOf, type PageBudget } from './subject-pages';
import { openSubjectRequest } from './subject-request';
import { SubjectExporter } from './subject-export';

/** Options of the {@link AccessRequestOperation}. */
export interface AccessRequestOptions {
  readonly s3: S3Client;
  readonly exportBucket: string;
  /** Documents per invocation and time left. @default everything in one invocation */
  readonly budget?: PageBudget;
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
    this.exporter = new SubjectExporter(ctx, options.s3, options.exportBucket, options.budget);
  }

  /** Applies one page of an access request (the request itself is its first page). */
  async handle(
    event: AccessRequestedV1 | SubjectRequestContinuedV1,
  ): Promise<EffectResult<Continuation>> {
    const { store } = this.ctx;
    const at = pageOf<AccessRequestedV1, 'access', ExportProgress>(event, ['access']);
    const { tenant, subject, requestId, deadline, common, request } = await openSubjectRequest(
      this.ctx,
      at.request,
      'access',
    );
    const result = await this.exporter.export(
      {
        tenant,
        subject,
        subjectId: at.request.data.subjectId,
        kind: 'access',
        exportId: requestId,
        requestId,
        requestIdInClear: at.request.data.requestId,
        deadline,
      },
      at,
    );
    const received =
      at.page === 1
        ? [{ ...common, operation: 'received' as const, outcome: 'success' as const }]
        : [];
    const entries = [...received, ...result.entries.map((e) => ({ ...e, ...common }))];
    if (result.next)
      return {
        entries,
        next: {
          operation: 'access',
          page: at.page + 1,
          request: at.request,
          progress: result.next,
        },
      };
    const completed = await store.completeRequest(
      request,
      this.ctx.now().toISOString(),
      `exported:${result.documents}`,
    );
    entries.push({
      ...common,
      operation: 'request-completed',
      outcome: 'success',
      reason: `${completed.outcome}${completed.completedAt! > deadline ? ';late' : ''}`,
    });
    return { entries };
  }
}
