import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as path from 'node:path';
import { buildApp } from '../../infra/app';
import { ENTRY_METADATA_KEY } from '../../infra/constructs/pipeline-function';
import { SERVICE_VARIABLES as V } from '../../shared/functions/declarations';
import { QUEUE_OPERATIONS } from '../../shared/operations/routes';
import {
  projectProgram,
  reachableCommands,
  type CallingLibrary,
  type CommandCall,
} from './aws-calls';
import { iamRequirement, serviceOf } from './iam-actions';
import {
  arnOf,
  encryptionKeyOf,
  referencedId,
  RolePermissions,
  type TemplateResources,
} from './role-policy';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Which resource each file that calls AWS acts on, per AWS service, named by the environment
 * variable that names it. A call is attributed to the nearest of these files on its call path
 * (a generic helper acts on the resource of its caller).
 */
const RESOURCE_OF: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'shared/processing-log/writer.ts': { s3: [V.log.bucket] },
  'shared/processing-log/checkpointer.ts': { s3: [V.checkpoints.bucket] },
  'shared/aws/kms-note-signer.ts': { kms: [V.checkpoints.keyId] },
  'shared/processing-log/log-object-check.ts': { s3: [V.log.bucket] },
  'shared/pseudonym.ts': { kms: [V.pseudonyms.keyId] },
  'shared/batch/dead-letter.ts': { sqs: [V.deadLetters.queueUrl] },
  'shared/batch/continuation-queue.ts': { sqs: [V.continuations.queueUrl] },
  'shared/intake/forwarder.ts': { sqs: Object.values(V.operationQueues) },
  'shared/retention/retention-store.ts': { dynamodb: [V.store.table] },
  'shared/vault/document-vault.ts': { s3: [V.vault.bucket] },
  'shared/vault/key-hierarchy.ts': {
    dynamodb: [V.vault.keyStoreTable],
    kms: [V.vault.wrappingKeyId],
  },
  'shared/operations/subject-export.ts': { s3: [V.exports.bucket] },
  'shared/operations/subject-copies.ts': { s3: [V.exports.bucket, V.uploads.bucket] },
  'shared/operations/document-upload.ts': { s3: [V.uploads.bucket] },
  idempotency: { dynamodb: [V.idempotency.table] },
};

/** Libraries that call AWS on their own. */
const LIBRARIES: CallingLibrary[] = [
  {
    packageName: '@aws-lambda-powertools/idempotency',
    sender: 'lib/esm/persistence/DynamoDBPersistenceLayer.js',
    owner: 'idempotency',
  },
  // Multipart uploads of the vault and the exports, each to the bucket of the code that uses it.
  {
    packageName: '@aws-sdk/lib-storage',
    sender: 'dist-es/Upload.js',
    unsent: ['PutObjectTagging'], // only with its `tags` option, which no caller gives
  },
];

/** Variables the Lambda runtime reads before any code of ours runs. */
const RUNTIME_VARIABLES: Readonly<Record<string, string>> = {
  NODE_OPTIONS: 'read by the node process at start-up (source maps in stack traces)',
};

const resources = (() => {
  const app = buildApp(
    new App({ context: { 'aws:cdk:bundling-stacks': [], region: 'eu-west-3' } }),
  );
  const template = Template.fromStack(app.node.findChild('PrivacyOps') as Stack).toJSON();
  return template.Resources as TemplateResources;
})();

const functions = Object.entries(resources)
  .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[ENTRY_METADATA_KEY])
  .map(([logicalId, r]) => ({
    logicalId,
    entry: r.Metadata![ENTRY_METADATA_KEY] as string,
    environment: (r.Properties!.Environment?.Variables ?? {}) as Record<string, unknown>,
  }));

/** A plausible value for a variable of the template (a reference becomes a name, URL or ARN). */
function placeholder(name: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const id = referencedId(value) ?? name;
  if (name.endsWith('_URL')) return `https://sqs.eu-west-3.amazonaws.com/111111111111/${id}`;
  if (name.endsWith('_ID')) return `arn:aws:kms:eu-west-3:111111111111:key/${id}`;
  return id.toLowerCase();
}

/**
 * Loads `entry` in a fresh module registry with `process.env` holding only `variables` (plus
 * what the AWS SDK needs) and returns the names the code read while loading: functions read
 * their whole configuration at module scope.
 */
function variablesReadAtLoad(entry: string, variables: Record<string, string>): Set<string> {
  const read = new Set<string>();
  const values: Record<string, string> = {
    AWS_REGION: 'eu-west-3',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...variables,
  };
  const env = new Proxy(values, {
    get: (target, key) => {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key);
    },
    has: (target, key) => {
      if (typeof key === 'string') read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys: () => {
      throw new Error(`${entry} enumerates the environment at load: cannot tell what it reads`);
    },
  });
  const original = process.env;
  process.env = env;
  try {
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(path.join(ROOT, entry));
    });
  } finally {
    process.env = original;
  }
  return read;
}

const program = projectProgram(functions.map((f) => f.entry));
const calls = new Map<string, CommandCall[]>();
/** The AWS calls the code of `entry` can make (computed once per function). */
function callsOf(entry: string): CommandCall[] {
  if (!calls.has(entry)) {
    calls.set(
      entry,
      reachableCommands(program, entry, new Set(Object.keys(RESOURCE_OF)), LIBRARIES),
    );
  }
  return calls.get(entry)!;
}

/**
 * What Lambda itself uses on the function's behalf: its log group, its asynchronous dead-letter
 * queue, and the sources and failure destinations of its event source mappings (a stream counts
 * as its table).
 */
function platformResources(functionLogicalId: string): string[] {
  const p = resources[functionLogicalId].Properties!;
  const ids = [
    referencedId(p.LoggingConfig?.LogGroup),
    referencedId(p.DeadLetterConfig?.TargetArn),
  ];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    if (referencedId(r.Properties!.FunctionName) !== functionLogicalId) continue;
    ids.push(referencedId(r.Properties!.EventSourceArn));
    ids.push(referencedId(r.Properties!.DestinationConfig?.OnFailure?.Destination));
  }
  return ids.filter((id): id is string => id !== undefined);
}

describe('each function gets exactly the environment and the permissions its code needs', () => {
  it('has the nine functions of the pipeline', () => {
    expect(functions.map((f) => f.entry).sort()).toEqual(
      ['intake', ...QUEUE_OPERATIONS, 'retention-expiry', 'retention-sweep', 'checkpointer']
        .map((name) => `functions/${name}.ts`)
        .sort(),
    );
  });

  describe.each(functions)('$entry', ({ logicalId, entry, environment }) => {
    it('reads every variable the template gives it, when its module loads', () => {
      // Prepare
      const variables = Object.fromEntries(
        Object.entries(environment).map(([name, value]) => [name, placeholder(name, value)]),
      );
      // Act
      const read = variablesReadAtLoad(entry, variables);
      // Assess
      const unread = Object.keys(variables).filter(
        (name) => !read.has(name) && !(name in RUNTIME_VARIABLES),
      );
      expect(unread).toEqual([]);
    });

    it('is allowed every AWS call its code can make, on the resource its environment names', () => {
      // Prepare
      const role = new RolePermissions(resources, logicalId);
      // Act
      const calls = callsOf(entry);
      // Assess
      expect(calls.length).toBeGreaterThan(0);
      const missing: string[] = [];
      for (const call of calls) {
        const what = `${call.operation} (${call.file})`;
        const requirement = iamRequirement(call.sdk, call.operation, call.input);
        const variables = call.owner ? RESOURCE_OF[call.owner][serviceOf(call.sdk)] : undefined;
        if (!requirement) missing.push(`${what}: map this operation to its IAM actions`);
        if (!variables) missing.push(`${what}: the test does not know which resource it acts on`);
        if (!requirement || !variables) continue;
        for (const variable of variables) {
          const resource = referencedId(environment[variable]);
          if (!resource) {
            missing.push(`${what}: acts on the resource of ${variable}, not in the environment`);
            continue;
          }
          for (const [action, part] of requirement.actions) {
            if (!role.allows(action, arnOf(resource, part)))
              missing.push(`${what}: ${action} on ${arnOf(resource, part)}`);
          }
          const key = encryptionKeyOf(resources, resource);
          for (const action of key ? requirement.encryptionKey : []) {
            if (!role.allows(action, arnOf(key!, 'key')))
              missing.push(`${what}: ${action} on ${key}, the key of ${resource}`);
          }
        }
      }
      expect(missing).toEqual([]);
    });

    it('is allowed nothing on a resource its code does not act on', () => {
      // Prepare: what its code calls AWS on, and what Lambda itself uses for it
      const used = new Set<string>();
      for (const call of callsOf(entry)) {
        const variables = call.owner ? RESOURCE_OF[call.owner][serviceOf(call.sdk)] : [];
        for (const variable of variables ?? []) {
          const resource = referencedId(environment[variable]);
          if (resource) used.add(resource);
        }
      }
      for (const resource of platformResources(logicalId)) used.add(resource);
      for (const resource of [...used]) {
        const key = encryptionKeyOf(resources, resource);
        if (key) used.add(key);
      }
      // Act
      const granted = new RolePermissions(resources, logicalId).resourceIds();
      // Assess
      expect([...granted].filter((id) => !used.has(id)).sort()).toEqual([]);
    });
  });
});
