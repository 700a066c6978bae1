import { QUEUE_OPERATIONS, type QueueOperation } from '../operations/routes';

/**
 * What a function may do with each resource it uses. Infra turns each (service, access) into the
 * values of the service's variables and the IAM grants that go with them
 * (`infra/constructs/service-bindings.ts`); the function's wiring builds the service from the same
 * variables (`shared/functions/services.ts`).
 */
export interface ServiceAccess {
  /**
   * The processing log bucket. `append`: write objects, and HEAD one to tell a replay from a
   * lost write; `append-read`: also read one back (decrypt), to tell whether it holds a record
   * (an operation that keeps its own idempotency).
   */
  readonly log: 'append' | 'append-read';
  /** The KMS HMAC key deriving subject pseudonyms. `mac`: GenerateMac. */
  readonly pseudonyms: 'mac';
  /** The Powertools idempotency table. */
  readonly idempotency: 'read-write';
  /** The shared dead-letter queue. `send`: reject a message with its reason. */
  readonly deadLetters: 'send';
  /** The retention table (documents, subjects, holds, requests). */
  readonly store: 'read-write';
  /**
   * The document vault: bucket, key store and the documents key.
   * - `read`: read documents (unwrapping their keys; a missing tenant key is created on the way);
   * - `write`: store documents, and remove every version of one (an upload older than an erasure);
   * - `delete`: shred subject keys and remove every version; never unwraps a key;
   * - `reconcile`: as `delete`, and read an object's metadata (HEAD, never its content) and whether
   *   the subject key it was written under still exists (the vault reconciliation).
   */
  readonly vault: 'read' | 'write' | 'delete' | 'reconcile';
  /**
   * The upload (landing) bucket. `name`: only its name, to check events point into it;
   * `read-delete`: read an upload of at most the document size limit (`MAX_DOCUMENT_BYTES`) and
   * remove every version of it; `delete`: remove every version of an upload (what a refused or
   * crashed upload left), never read it.
   */
  readonly uploads: 'name' | 'read-delete' | 'delete';
  /**
   * The export bucket. `write`: put subject exports (and read back the manifest parts of an
   * export written in pages); `delete`: remove every version of a subject's exports, never read
   * them.
   */
  readonly exports: 'write' | 'delete';
  /** The retention policy bundled with the function: no variable, no grant. */
  readonly policy: 'bundled';
  /**
   * The producer registry (config/producers.json) bundled with the function: who may act for
   * which tenant. No variable, no grant.
   */
  readonly producers: 'bundled';
  /**
   * The function's own input queue, where a request too large for one invocation continues, and
   * the page budget (documents per invocation). `send`: send a continuation to it.
   */
  readonly continuations: 'send';
  /** The input queue of every queue-fed operation. `send`: forward events to them. */
  readonly operationQueues: 'send';
  /**
   * Signed checkpoints of the processing log: the log bucket and the checkpoint signing key.
   * `sign`: list and read the log, write checkpoint entries, sign with the key (KMS `Sign`) and
   * read its public half.
   */
  readonly checkpoints: 'sign';
}

/** A service a function can use. */
export type ServiceName = keyof ServiceAccess;

/** The services a function uses, each with its access. */
export type ServiceNeeds = { readonly [S in ServiceName]?: ServiceAccess[S] };

/** The environment variable of an operation's input queue: `DOCUMENT_UPLOAD_QUEUE_URL`… */
export function queueUrlVariable(operation: QueueOperation): string {
  return `${operation.toUpperCase().replace(/-/g, '_')}_QUEUE_URL`;
}

/**
 * The environment variables of each service, by the field they fill. The only place these names
 * are written: infra sets them from it, the functions read them from it.
 */
export const SERVICE_VARIABLES = {
  log: { bucket: 'LOG_BUCKET_NAME' },
  pseudonyms: { keyId: 'PSEUDONYM_KEY_ID' },
  idempotency: { table: 'IDEMPOTENCY_TABLE_NAME' },
  deadLetters: { queueUrl: 'DEAD_LETTER_QUEUE_URL' },
  store: { table: 'RETENTION_TABLE_NAME' },
  vault: {
    bucket: 'VAULT_BUCKET_NAME',
    keyStoreTable: 'KEY_STORE_TABLE_NAME',
    wrappingKeyId: 'DOCUMENTS_KEY_ID',
  },
  uploads: { bucket: 'UPLOAD_BUCKET_NAME', maxDocumentBytes: 'MAX_DOCUMENT_BYTES' },
  exports: { bucket: 'EXPORT_BUCKET_NAME' },
  policy: {},
  producers: {},
  continuations: {
    queueUrl: 'CONTINUATION_QUEUE_URL',
    pageDocuments: 'CONTINUATION_PAGE_DOCUMENTS',
  },
  operationQueues: Object.fromEntries(
    QUEUE_OPERATIONS.map((operation) => [operation, queueUrlVariable(operation)]),
  ) as Readonly<Record<QueueOperation, string>>,
  checkpoints: { bucket: 'LOG_BUCKET_NAME', keyId: 'CHECKPOINT_KEY_ID' },
} as const satisfies { readonly [S in ServiceName]: Readonly<Record<string, string>> };

/**
 * Variables a service reads only for some of its accesses, by field: the vault wraps and unwraps
 * keys under the documents key only to read or write documents; deleting never does, so an
 * erase-only function is not given the key's id (nor a grant on it).
 */
const ACCESS_ONLY: {
  readonly [S in ServiceName]?: {
    readonly [F in keyof (typeof SERVICE_VARIABLES)[S]]?: ReadonlyArray<ServiceAccess[S]>;
  };
} = {
  vault: { wrappingKeyId: ['read', 'write'] },
  uploads: { maxDocumentBytes: ['read-delete'] },
};

/**
 * The largest document the upload function takes unless the deployment says otherwise (CDK
 * context `maxDocumentBytes`): 512 MiB. A larger upload is refused (`document-too-large`) before
 * a byte of it is read; below it a document streams through, never held whole in memory.
 */
export const DEFAULT_MAX_DOCUMENT_BYTES = 512 * 1024 * 1024;
/** The largest limit a deployment may set: the largest object one S3 PUT may write, 5 GiB. */
export const MAX_DOCUMENT_BYTES_LIMIT = 5 * 1024 * 1024 * 1024;

/**
 * Reads a document size limit (`MAX_DOCUMENT_BYTES`, or the CDK context value it comes from):
 * a whole number of bytes from 1 to {@link MAX_DOCUMENT_BYTES_LIMIT}; anything else is refused
 * with a message naming `source`.
 */
export function parseDocumentSizeLimit(raw: unknown, source: string): number {
  const value = typeof raw === 'string' && /^[0-9]+$/.test(raw.trim()) ? Number(raw) : raw;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_DOCUMENT_BYTES_LIMIT
  )
    throw new RangeError(
      `${source} must be a whole number of bytes from 1 to ${MAX_DOCUMENT_BYTES_LIMIT}, got ${JSON.stringify(raw)}`,
    );
  return value;
}

/** The variables of `service` that a function with `access` to it gets, by field. */
export function variablesOf<S extends ServiceName>(
  service: S,
  access: ServiceAccess[S],
): Readonly<Record<string, string>> {
  const only: Readonly<Record<string, ReadonlyArray<string> | undefined>> =
    ACCESS_ONLY[service] ?? {};
  return Object.fromEntries(
    Object.entries(SERVICE_VARIABLES[service]).filter(
      ([field]) => only[field]?.includes(access) ?? true,
    ),
  );
}

/** What starts a function. */
export type FunctionInput =
  /** The ingress queue producers write to. */
  | { readonly kind: 'ingress-queue' }
  /** Its own input queue, which the intake forwards the operation's events to. */
  | { readonly kind: 'operation-queue' }
  /** The retention table's stream, filtered to the deletions TTL made. */
  | { readonly kind: 'ttl-removals' }
  /** A fixed-rate schedule. */
  | { readonly kind: 'schedule'; readonly everyHours: number }
  /** A fixed-rate schedule of minutes. */
  | { readonly kind: 'schedule'; readonly everyMinutes: number };

/** The name of a function of the pipeline (its service name and processing-log actor). */
export type FunctionName =
  'intake' | QueueOperation | 'retention-expiry' | 'retention-sweep' | 'checkpointer';

/** One function of the pipeline: everything its code and its infrastructure derive from. */
export interface FunctionDeclaration<
  N extends FunctionName = FunctionName,
  S extends ServiceNeeds = ServiceNeeds,
> {
  /** Service name (logs), processing-log actor, and the file of its handler. */
  readonly name: N;
  /** Source file of the handler, relative to the repository root. */
  readonly entry: `functions/${N}.ts`;
  readonly input: FunctionInput;
  /** The services it uses; its environment and its grants follow from these and nothing else. */
  readonly services: S;
  readonly timeoutSeconds: number;
  /** Concurrency reserved for it (and the most it may take). */
  readonly reservedConcurrency: number;
}

function declare<const N extends FunctionName, const S extends ServiceNeeds>(
  name: N,
  declaration: Omit<FunctionDeclaration<N, S>, 'name' | 'entry'>,
): FunctionDeclaration<N, S> {
  return { name, entry: `functions/${name}.ts`, ...declaration };
}

/** What every queue-fed operation uses around its own services (see shared/batch). */
const OPERATION_BATCH = {
  log: 'append',
  pseudonyms: 'mac',
  idempotency: 'read-write',
  deadLetters: 'send',
  store: 'read-write',
  policy: 'bundled',
} as const;

/**
 * The same, for an operation whose own conditional write keeps it idempotent: it reads a log object
 * back, and uses the idempotency table only to reject a message once.
 */
const KEYED_OPERATION_BATCH = { ...OPERATION_BATCH, log: 'append-read' } as const;

/** Input and limits of a queue-fed operation. */
const queueFed = {
  input: { kind: 'operation-queue' },
  timeoutSeconds: 30,
  reservedConcurrency: 5,
} as const;

/** The nine functions of the pipeline. */
export const FUNCTIONS = {
  intake: declare('intake', {
    input: { kind: 'ingress-queue' },
    timeoutSeconds: 30,
    reservedConcurrency: 10,
    services: {
      log: 'append',
      pseudonyms: 'mac',
      idempotency: 'read-write',
      deadLetters: 'send',
      uploads: 'name',
      operationQueues: 'send',
      producers: 'bundled',
    },
  }),
  'document-upload': declare('document-upload', {
    ...queueFed,
    // The retention item's conditional write makes an upload apply once (no idempotency record).
    services: { ...KEYED_OPERATION_BATCH, vault: 'write', uploads: 'read-delete' },
  }),
  'account-closure': declare('account-closure', {
    ...queueFed,
    services: { ...OPERATION_BATCH, vault: 'read', exports: 'write', continuations: 'send' },
  }),
  'erasure-request': declare('erasure-request', {
    ...queueFed,
    services: {
      ...OPERATION_BATCH,
      vault: 'delete',
      exports: 'delete',
      uploads: 'delete',
      continuations: 'send',
    },
  }),
  'access-request': declare('access-request', {
    ...queueFed,
    services: { ...OPERATION_BATCH, vault: 'read', exports: 'write', continuations: 'send' },
  }),
  'legal-hold': declare('legal-hold', { ...queueFed, services: OPERATION_BATCH }),
  'retention-expiry': declare('retention-expiry', {
    input: { kind: 'ttl-removals' },
    timeoutSeconds: 300,
    reservedConcurrency: 5,
    services: { log: 'append-read', store: 'read-write', policy: 'bundled', vault: 'delete' },
  }),
  // Expires what is due, then reconciles the vault with the retention table (its metadata).
  'retention-sweep': declare('retention-sweep', {
    input: { kind: 'schedule', everyHours: 1 },
    timeoutSeconds: 900,
    reservedConcurrency: 1,
    services: { log: 'append-read', store: 'read-write', policy: 'bundled', vault: 'reconcile' },
  }),
  // One run at a time: two runs would both extend the same checkpoint.
  checkpointer: declare('checkpointer', {
    input: { kind: 'schedule', everyMinutes: 5 },
    timeoutSeconds: 300,
    reservedConcurrency: 1,
    services: { checkpoints: 'sign' },
  }),
} as const satisfies { readonly [N in FunctionName]: FunctionDeclaration<N> };

/** The services a function declares, in a stable order. */
export function servicesOf(declaration: FunctionDeclaration): ServiceName[] {
  return (Object.keys(declaration.services) as ServiceName[]).sort();
}

/** The access a function declares to one of its services. */
export function accessOf<S extends ServiceName>(
  declaration: FunctionDeclaration,
  service: S,
): ServiceAccess[S] {
  const access = declaration.services[service];
  if (access === undefined) throw new Error(`${declaration.name} does not declare ${service}`);
  return access as ServiceAccess[S];
}

/** The environment variable names of a function: those of its services' accesses, nothing else. */
export function environmentNames(declaration: FunctionDeclaration): string[] {
  return servicesOf(declaration).flatMap((s) =>
    Object.values(variablesOf(s, accessOf(declaration, s))),
  );
}
