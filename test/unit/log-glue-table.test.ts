import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app';
import { NAMED_QUERIES, renderSql } from '../../shared/processing-log/named-queries';
import {
  GLUE_COLUMN_TYPES,
  LOG_COLUMNS,
  LOG_PARTITION_KEY,
  LOG_SERDE,
} from '../../shared/processing-log/record';

interface GlueTableInput {
  PartitionKeys: Array<{ Name: string; Type: string }>;
  Parameters: Record<string, string>;
  StorageDescriptor: {
    Columns: Array<{ Name: string; Type: string }>;
    SerdeInfo: { SerializationLibrary: string };
  };
}

describe('Glue table of the processing log matches the record schema', () => {
  let template: Template;

  beforeAll(() => {
    const app = buildApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    template = Template.fromStack(app.node.findChild('PrivacyOps') as Stack);
  });

  const table = (): GlueTableInput => {
    const tables = Object.values(template.findResources('AWS::Glue::Table'));
    expect(tables).toHaveLength(1);
    return (tables[0] as { Properties: { TableInput: GlueTableInput } }).Properties.TableInput;
  };

  it('declares exactly LOG_COLUMNS, in order, with the types derived from the schema', () => {
    // Act
    const columns = table().StorageDescriptor.Columns;
    // Assess
    expect(columns.map((c) => [c.Name.toLowerCase(), c.Type])).toEqual(
      LOG_COLUMNS.map((c) => [c.toLowerCase(), GLUE_COLUMN_TYPES[c]]),
    );
  });

  it('reads gzip JSON Lines with the OpenX SerDe, partitioned by a projected dt date', () => {
    // Act
    const input = table();
    // Assess
    expect(input.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(LOG_SERDE);
    expect(input.PartitionKeys).toEqual([{ Name: LOG_PARTITION_KEY, Type: 'string' }]);
    expect(input.Parameters['projection.enabled']).toBe('true');
    expect(input.Parameters['projection.dt.type']).toBe('date');
    expect(input.Parameters['projection.dt.format']).toBe('yyyy-MM-dd');
    expect(JSON.stringify(input.Parameters['storage.location.template'])).toContain('/dt=${dt}/');
  });

  it('declares every named query for Athena, rendered for Athena', () => {
    // Act
    const queries = Object.values(template.findResources('AWS::Athena::NamedQuery')).map(
      (r) => (r as { Properties: { Name: string; QueryString: string } }).Properties,
    );
    // Assess
    expect(queries.map((q) => q.Name).sort()).toEqual(NAMED_QUERIES.map((q) => q.name).sort());
    for (const q of queries) {
      expect(q.QueryString).not.toMatch(/\{\{/);
      expect(q.QueryString).not.toMatch(/TIMESTAMP WITH TIME ZONE/);
    }
  });
});

describe('GLUE_COLUMN_TYPES', () => {
  it('types the schema version as int and every other column as string', () => {
    // Assess
    expect(Object.keys(GLUE_COLUMN_TYPES)).toEqual(LOG_COLUMNS);
    expect(GLUE_COLUMN_TYPES.schemaVersion).toBe('int');
    expect(LOG_COLUMNS.filter((c) => GLUE_COLUMN_TYPES[c] !== 'string')).toEqual(['schemaVersion']);
  });

  it('renders parameters as escaped string literals and refuses a missing one', () => {
    // Prepare
    const sql = 'SELECT * FROM {{table}} WHERE subject = {{subject}} AND {{ts:time}} > now()';
    // Act
    const duck = renderSql(sql, { dialect: 'duckdb', table: 'log', params: { subject: "a'b" } });
    const athena = renderSql(sql, {
      dialect: 'athena',
      table: '"db"."t"',
      params: { subject: 'x' },
    });
    // Assess
    expect(duck).toBe(
      "SELECT * FROM log WHERE subject = 'a''b' AND CAST(time AS TIMESTAMP WITH TIME ZONE) > now()",
    );
    expect(athena).toBe(
      `SELECT * FROM "db"."t" WHERE subject = 'x' AND from_iso8601_timestamp(time) > now()`,
    );
    expect(() => renderSql(sql, { dialect: 'duckdb', table: 'log' })).toThrow(/--param subject/);
  });
});
