import { ConfigurationError } from '../../shared/errors';
import {
  environmentNames,
  FUNCTIONS,
  SERVICE_VARIABLES,
  type FunctionName,
} from '../../shared/functions/declarations';
import { functionServices } from '../../shared/functions/services';

/** A placeholder for every variable of `name`'s declaration (a number where one is read). */
function environmentFor(name: FunctionName): NodeJS.ProcessEnv {
  return Object.fromEntries(
    environmentNames(FUNCTIONS[name]).map((v) => [
      v,
      v === SERVICE_VARIABLES.uploads.maxDocumentBytes ||
      v === SERVICE_VARIABLES.continuations.pageDocuments
        ? '1000'
        : `value-of-${v}`,
    ]),
  );
}

describe('functionServices', () => {
  it.each(Object.keys(FUNCTIONS) as FunctionName[])(
    'builds exactly the services %s declares, from its own environment',
    (name) => {
      // Act
      const services = functionServices(name, environmentFor(name));
      // Assess
      expect(Object.keys(services).sort()).toEqual(
        [...Object.keys(FUNCTIONS[name].services), 'logger', 'now'].sort(),
      );
    },
  );

  it.each(['', '0', '1.5', 'big', String(6 * 1024 ** 3)])(
    'refuses to start the upload function with MAX_DOCUMENT_BYTES %p',
    (value) => {
      const env = { ...environmentFor('document-upload'), MAX_DOCUMENT_BYTES: value };
      expect(() => functionServices('document-upload', env)).toThrow(ConfigurationError);
      expect(() => functionServices('document-upload', env)).toThrow(/MAX_DOCUMENT_BYTES/);
    },
  );

  it('gives the legal hold no vault and the sweeper no pseudonyms', () => {
    expect(environmentNames(FUNCTIONS['legal-hold'])).not.toContain(SERVICE_VARIABLES.vault.bucket);
    expect(environmentNames(FUNCTIONS['retention-sweep'])).not.toContain(
      SERVICE_VARIABLES.pseudonyms.keyId,
    );
  });

  it('gives the documents key only to functions that read or write the vault', () => {
    // Act
    const given = (Object.keys(FUNCTIONS) as FunctionName[]).filter((name) =>
      environmentNames(FUNCTIONS[name]).includes(SERVICE_VARIABLES.vault.wrappingKeyId),
    );
    // Assess: the erase-only functions (erasure, expiry, sweep) shred and delete, never unwrap
    expect(given.sort()).toEqual(['access-request', 'account-closure', 'document-upload']);
  });

  it('builds an erase-only vault that refuses to read, naming why', async () => {
    // Prepare
    const { vault } = functionServices('erasure-request', environmentFor('erasure-request'));
    const ref = {
      tenant: 'acme-sas',
      subject: 'a'.repeat(64),
      keyClass: 'default',
      documentId: 'd',
    };
    // Act / Assess
    await expect(vault.get(ref)).rejects.toMatchObject({ reason: 'no-wrapping-key' });
  });

  it('fails fast naming a missing variable', () => {
    // Prepare
    const env = environmentFor('erasure-request');
    delete env[SERVICE_VARIABLES.vault.keyStoreTable];
    // Act / Assess
    expect(() => functionServices('erasure-request', env)).toThrow(ConfigurationError);
    expect(() => functionServices('erasure-request', env)).toThrow(/KEY_STORE_TABLE_NAME/);
  });

  it('routes every event type of the intake to the queue of its operation', () => {
    // Act
    const { operationQueues } = functionServices('intake', environmentFor('intake'));
    // Assess
    expect(operationQueues.routes).toEqual({
      'privacy.document.uploaded.v1': 'value-of-DOCUMENT_UPLOAD_QUEUE_URL',
      'privacy.account.closed.v1': 'value-of-ACCOUNT_CLOSURE_QUEUE_URL',
      'privacy.account.reopened.v1': 'value-of-ACCOUNT_CLOSURE_QUEUE_URL',
      'privacy.erasure.requested.v1': 'value-of-ERASURE_REQUEST_QUEUE_URL',
      'privacy.access.requested.v1': 'value-of-ACCESS_REQUEST_QUEUE_URL',
      'privacy.legal-hold.placed.v1': 'value-of-LEGAL_HOLD_QUEUE_URL',
      'privacy.legal-hold.released.v1': 'value-of-LEGAL_HOLD_QUEUE_URL',
    });
  });
});

describe('tracing', () => {
  /** The middleware names of the AWS clients a function's services hold in the open. */
  function clientMiddleware(execution: string | undefined): Record<string, string[]> {
    const saved = process.env.AWS_EXECUTION_ENV;
    if (execution === undefined) delete process.env.AWS_EXECUTION_ENV;
    else process.env.AWS_EXECUTION_ENV = execution;
    try {
      const upload = functionServices('document-upload', environmentFor('document-upload'));
      const intake = functionServices('intake', environmentFor('intake'));
      return {
        s3: upload.uploads.s3.middlewareStack.identify(),
        dynamodb: upload.idempotency.dynamo.middlewareStack.identify(),
        sqs: intake.operationQueues.sqs.middlewareStack.identify(),
      };
    } finally {
      if (saved === undefined) delete process.env.AWS_EXECUTION_ENV;
      else process.env.AWS_EXECUTION_ENV = saved;
    }
  }

  it('traces every AWS client of a function running in Lambda, and none in the local runtime', () => {
    // Act
    const inLambda = clientMiddleware('AWS_Lambda_nodejs24.x');
    const local = clientMiddleware(undefined);
    // Assess: X-Ray's SDK instrumentation on each client in Lambda, absent locally
    for (const steps of Object.values(inLambda))
      expect(steps).toContainEqual(expect.stringMatching(/^XRaySDKInstrumentation/));
    for (const steps of Object.values(local))
      expect(steps).not.toContainEqual(expect.stringMatching(/^XRaySDKInstrumentation/));
  });
});
