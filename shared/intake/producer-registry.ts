import * as z from 'zod/mini';
import { en } from 'zod/locales';
import { EVENT_SOURCE_PATTERN, EVENT_TYPES, type EventType, type PrivacyEvent } from '../../events';
import defaultRegistryDocument from '../../config/producers.json';
import { deployedConfig } from '../deployed-config';
import { ConfigurationError } from '../errors';
import { readJsonConfig } from '../retention/json-config';

// zod/mini loads no locale: install English, as classic zod does, so issue messages stay the same.
z.config(en());

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** An IAM unique id: `AIDA…` for a user, `AROA…` for a role (any of its sessions). */
const UNIQUE_ID = /^(AIDA|AROA)[A-Z0-9]{12,124}$/;
/** A user or role ARN, as a resource policy names its principal. */
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(user|role)\/[\w+=,.@/-]{1,512}$/;

/** `*` (any) or a non-empty list without duplicates. */
const anyOrList = (item: z.ZodMiniType<string>, what: string) =>
  z.union([
    z.literal('*'),
    z.array(item).check(
      z.minLength(1, `must list at least one ${what}, or be "*"`),
      z.refine((list) => new Set(list).size === list.length, `must not list a ${what} twice`),
    ),
  ]);

const ProducerEntry = z
  .strictObject({
    principal: z
      .string({ error: 'is required (the IAM user or role ARN the producer sends as)' })
      .check(z.regex(PRINCIPAL_ARN, 'must be an IAM user or role ARN')),
    senderId: z
      .string({ error: 'is required (the unique id SQS reports as the SenderId)' })
      .check(z.regex(UNIQUE_ID, 'must be an IAM unique id: AIDA… (user) or AROA… (role)')),
    sources: anyOrList(
      z.string().check(z.regex(EVENT_SOURCE_PATTERN, 'must be a valid event source')),
      'source',
    ),
    tenants: anyOrList(
      z.string().check(z.regex(TENANT, 'must be a tenant id [a-z0-9-]')),
      'tenant',
    ),
    types: anyOrList(
      z
        .string()
        .check(
          z.refine(
            (t) => (EVENT_TYPES as string[]).includes(t),
            `must be an event type of the contract (${EVENT_TYPES.join(', ')})`,
          ),
        ),
      'type',
    ),
  })
  .check(
    z.superRefine((p, ctx) => {
      const kind = p.principal.includes(':role/') ? 'AROA' : 'AIDA';
      if (!p.senderId.startsWith(kind))
        ctx.addIssue({
          code: 'custom',
          path: ['senderId'],
          message: `must be the unique id of the principal: ${kind}… for a ${kind === 'AROA' ? 'role' : 'user'}`,
        });
    }),
  );

const RegistrySchema = z
  .strictObject({
    version: z.literal(1, { error: 'must be 1' }),
    producers: z.record(
      z.string().check(z.regex(NAME, 'must be a producer name [a-z0-9-]')),
      ProducerEntry,
    ),
  })
  .check(
    z.superRefine((r, ctx) => {
      const seen = new Map<string, string>();
      for (const [name, p] of Object.entries(r.producers)) {
        const other = seen.get(p.senderId);
        if (other)
          ctx.addIssue({
            code: 'custom',
            path: ['producers', name, 'senderId'],
            message: `is already the sender of ${other}: one registration per principal`,
          });
        seen.set(p.senderId, name);
      }
    }),
  );

/** `*` for any, else the values allowed. */
export type AnyOrList<T extends string> = '*' | readonly T[];

/** A producer as the registry names it: who it is, and what it may send. */
export interface RegisteredProducer {
  /** Its name in the registry (for operators; never logged in the processing log). */
  readonly name: string;
  /** The IAM user or role ARN it sends as: what the queue and bucket policies admit. */
  readonly principal: string;
  /** The principal's unique id: what SQS reports as the message's SenderId. */
  readonly senderId: string;
  readonly sources: AnyOrList<string>;
  /** The tenants it may act for; `*` for the processor's own multi-tenant services. */
  readonly tenants: AnyOrList<string>;
  readonly types: AnyOrList<EventType>;
}

/** What of an event lies outside the sender's registration (first found, in this order). */
export type ProducerRefusal = 'sender' | 'source' | 'tenant' | 'type';

const allows = <T extends string>(allowed: AnyOrList<T>, value: T) =>
  allowed === '*' || allowed.includes(value);

/**
 * Who may act for which tenant: each registered producer, its IAM identity, and the sources,
 * tenants and event types it may send. Refuses anything outside a registration.
 */
export class ProducerRegistry {
  private readonly bySender: ReadonlyMap<string, RegisteredProducer>;

  constructor(readonly producers: readonly RegisteredProducer[]) {
    this.bySender = new Map(producers.map((p) => [p.senderId, p]));
  }

  /** The registry as its JSON file gives it (what {@link loadProducerRegistry} reads back). */
  toDocument(): { version: 1; producers: Record<string, Omit<RegisteredProducer, 'name'>> } {
    return {
      version: 1,
      producers: Object.fromEntries(this.producers.map(({ name, ...p }) => [name, p])),
    };
  }

  /**
   * The producer that sent a message, from its SQS `SenderId`: the unique id of a user, or
   * `<role unique id>:<session name>` for a role; undefined when no registration names it.
   */
  producerOf(senderId: string | undefined): RegisteredProducer | undefined {
    if (!senderId) return undefined;
    const [id, session] = senderId.split(':', 2);
    if (session === undefined) return this.bySender.get(id);
    // Only a role has sessions: `<role unique id>:<session>`, with any session name.
    return id.startsWith('AROA') && session !== '' ? this.bySender.get(id) : undefined;
  }

  /**
   * What of `event`, sent by `senderId`, the registry refuses (`sender`: no registration names
   * it; else the first of `source`, `tenant`, `type` outside it), or undefined when allowed.
   */
  refusal(
    senderId: string | undefined,
    event: Pick<PrivacyEvent, 'source' | 'tenantid' | 'type'>,
  ): ProducerRefusal | undefined {
    const producer = this.producerOf(senderId);
    if (!producer) return 'sender';
    if (!allows(producer.sources, event.source)) return 'source';
    if (!allows(producer.tenants, event.tenantid)) return 'tenant';
    if (!allows(producer.types, event.type)) return 'type';
    return undefined;
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.map(String).join('.');
  return `${field || '(registry)'} ${issue.message}`;
}

/**
 * Validates and loads a producer registry from a JSON file path or an already parsed object.
 * Refuses an invalid one with a {@link ConfigurationError} (`invalid-producer-registry`) naming
 * each bad entry, e.g. `producers.acme.senderId must be an IAM unique id …`.
 */
export function loadProducerRegistry(pathOrObject: string | unknown): ProducerRegistry {
  const input = readJsonConfig(pathOrObject, 'invalid-producer-registry', 'producer registry');
  const parsed = RegistrySchema.safeParse(input);
  if (!parsed.success)
    throw new ConfigurationError(
      'invalid-producer-registry',
      `invalid producer registry: ${parsed.error.issues.map(describeIssue).join('; ')}`,
    );
  return new ProducerRegistry(
    Object.entries(parsed.data.producers).map(([name, p]) => ({
      name,
      ...p,
      types: p.types as AnyOrList<EventType>,
    })),
  );
}

/**
 * The registry bundled with the code: the one the deployment gave the construct (compiled into
 * each function), else `config/producers.json`.
 */
export function bundledProducerRegistry(): ProducerRegistry {
  return loadProducerRegistry(deployedConfig?.producers ?? defaultRegistryDocument);
}

/**
 * The registry the intake runs with: the deployment's, bundled into the function (changing it =
 * edit the file and deploy; the queue and bucket policies follow from the same registry), or the
 * file named by `PRODUCERS_FILE` (local use; infra never sets it).
 */
export function defaultProducerRegistry(env: NodeJS.ProcessEnv = process.env): ProducerRegistry {
  const file = env.PRODUCERS_FILE;
  return file && file.trim() !== '' ? loadProducerRegistry(file) : bundledProducerRegistry();
}
