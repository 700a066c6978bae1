import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** AWS Backup rules of the packs, which every table acknowledges with its own reason. */
const BACKUP_PLAN_RULES = [
  'HIPAA.Security-DynamoDBInBackupPlan',
  'NIST.800.53.R5-DynamoDBInBackupPlan',
] as const;

/** Properties of a {@link SecureTable}. */
export interface SecureTableProps {
  /** Key encrypting the table (customer-managed). */
  readonly encryptionKey: kms.IKey;
  /** Partition key. */
  readonly partitionKey: dynamodb.Attribute;
  /** Sort key. @default none */
  readonly sortKey?: dynamodb.Attribute;
  /** Attribute holding the expiry time (epoch seconds) DynamoDB TTL deletes by. @default no TTL */
  readonly timeToLiveAttribute?: string;
  /** Stream of changes. @default no stream */
  readonly stream?: dynamodb.StreamViewType;
  /** Global secondary indexes. @default none */
  readonly globalSecondaryIndexes?: readonly dynamodb.GlobalSecondaryIndexProps[];
  /**
   * Point-in-time recovery window, in days (1–35). A shorter window bounds how long deleted
   * items (e.g. shredded keys) can be restored. @default 35
   */
  readonly pointInTimeRecoveryDays?: number;
  /**
   * Why the table is in no AWS Backup plan (the packs ask for one): a backup would keep what the
   * pipeline deletes on purpose, or what it holds is not worth restoring.
   */
  readonly noBackupPlanReason: string;
}

/**
 * A DynamoDB table that carries its own security: encrypted with a customer-managed key,
 * point-in-time recovery on, retained when the stack goes, on-demand billing, and the packs'
 * backup-plan rules acknowledged with the reason the caller gives. Refuses a recovery window
 * outside 1–35 days and an empty reason.
 */
export class SecureTable extends Construct {
  /** The table. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: SecureTableProps) {
    super(scope, id);
    const days = props.pointInTimeRecoveryDays ?? 35;
    if (!Number.isInteger(days) || days < 1 || days > 35) {
      throw new Error(`${id}: pointInTimeRecoveryDays must be a whole number from 1 to 35`);
    }
    if (props.noBackupPlanReason.trim() === '') {
      throw new Error(`${id}: noBackupPlanReason must say why the table is in no backup plan`);
    }
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: props.partitionKey,
      sortKey: props.sortKey,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: props.timeToLiveAttribute,
      stream: props.stream,
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: true,
        ...(props.pointInTimeRecoveryDays !== undefined ? { recoveryPeriodInDays: days } : {}),
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of props.globalSecondaryIndexes ?? [])
      this.table.addGlobalSecondaryIndex(index);
    for (const rule of BACKUP_PLAN_RULES) {
      Validations.of(this.table.node.defaultChild!).acknowledge({
        id: rule,
        reason: props.noBackupPlanReason,
      });
    }
  }
}
