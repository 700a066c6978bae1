import type { Pluggable } from '@smithy/types';
import { ENTRY_METADATA_KEY } from '../../infra/constructs/pipeline-function';
import { pseudoParameters } from '../../local/intrinsics';
import type { ProvisionedEnvironment } from '../../local/provision';
import { LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime';
import type { CfnResource } from '../../local/template';
import { registerClientPlugin } from '../../shared/aws/client-config';
import type { ProbeResponse } from '../support/fixtures/runtime-probe';

const ENDPOINT = 'http://127.0.0.1:9';
const PROBE = 'test/support/fixtures/runtime-probe.ts';

/** A function of the template running the probe with `PROBE_VALUE` set to `value`. */
const probeFunction = (value: string, reserved: number): CfnResource => ({
  Type: 'AWS::Lambda::Function',
  Metadata: { [ENTRY_METADATA_KEY]: PROBE },
  Properties: {
    Environment: { Variables: { PROBE_VALUE: value } },
    Timeout: 5,
    ReservedConcurrentExecutions: reserved,
  },
});

/** Two functions that disagree on one variable, provisioned as the local provisioning would. */
function environment(): ProvisionedEnvironment {
  const physical = (name: string) => ({
    type: 'AWS::Lambda::Function',
    ref: name,
    attributes: { Arn: `arn:aws:lambda:eu-west-3:123456789012:function:${name}` },
  });
  return {
    endpoint: ENDPOINT,
    region: 'eu-west-3',
    template: { Resources: { ProbeA: probeFunction('a', 3), ProbeB: probeFunction('b', 1) } },
    resources: new Map([
      ['ProbeA', physical('probe-a')],
      ['ProbeB', physical('probe-b')],
    ]),
    outputs: {},
    skipped: [],
    notes: [],
    pseudo: pseudoParameters('eu-west-3'),
  };
}

const invokeProbe = (runtime: LocalRuntime, ref: string, event: Record<string, unknown> = {}) =>
  runtime.invoke(ref, event) as Promise<ProbeResponse>;

describe('local runtime: function instances', () => {
  let runtime: LocalRuntime | undefined;
  const start = (options: LocalRuntimeOptions = {}) =>
    (runtime = new LocalRuntime(environment(), options));

  afterEach(async () => {
    await runtime?.stop();
    runtime = undefined;
    delete process.env.PROBE_HOST_ONLY;
  });

  it('gives each function its own template variables, read at module load', async () => {
    // Prepare
    const local = start();
    // Act
    const a = await invokeProbe(local, 'ProbeA');
    const b = await invokeProbe(local, 'ProbeB');
    // Assess
    expect([a.loadedWith, a.seenNow]).toEqual(['a', 'a']);
    expect([b.loadedWith, b.seenNow]).toEqual(['b', 'b']);
    expect(a.endpoint).toBe(ENDPOINT);
  });

  it("leaves the host's process.env alone and does not pass the host's variables on", async () => {
    // Prepare
    process.env.PROBE_HOST_ONLY = 'host';
    const hostEndpoint = process.env.AWS_ENDPOINT_URL;
    const local = start();
    // Act
    const a = await invokeProbe(local, 'ProbeA');
    // Assess
    expect(a.hostOnly).toBeUndefined();
    expect(process.env.PROBE_VALUE).toBeUndefined();
    expect(process.env.AWS_ENDPOINT_URL).toBe(hostEndpoint);
    expect(local.findFunction('ProbeA').environment).toMatchObject({
      PROBE_VALUE: 'a',
      AWS_ENDPOINT_URL: ENDPOINT,
      AWS_REGION: 'eu-west-3',
    });
  });

  it('runs one instance per function by default: invocations wait for it and share its module', async () => {
    // Prepare
    const local = start();
    const instances: number[] = [];
    local.onInvoke((invocation, run) => {
      instances.push(invocation.instance);
      return run(invocation.event);
    });
    // Act
    const both = await Promise.all([
      invokeProbe(local, 'ProbeA', { waitMs: 50 }),
      invokeProbe(local, 'ProbeA', { waitMs: 50 }),
    ]);
    // Assess
    expect(both.map((r) => r.invocations).sort()).toEqual([1, 2]);
    expect(instances).toEqual([0, 0]);
  });

  it('runs several instances when asked, each with its own module state', async () => {
    // Prepare
    const local = start({ instancesPerFunction: 2 });
    const instances = new Set<number>();
    local.onInvoke((invocation, run) => {
      instances.add(invocation.instance);
      return run(invocation.event);
    });
    // Act
    const both = await Promise.all([
      invokeProbe(local, 'ProbeA', { waitMs: 100 }),
      invokeProbe(local, 'ProbeA', { waitMs: 100 }),
    ]);
    const third = await invokeProbe(local, 'ProbeA');
    // Assess
    expect(both.map((r) => r.invocations)).toEqual([1, 1]);
    expect(third.invocations).toBe(2);
    expect([...instances].sort()).toEqual([0, 1]);
  });

  it("sizes the pool from the template's concurrency when asked", () => {
    // Prepare, Act
    const local = start({ instancesPerFunction: 'template' });
    // Assess
    expect(local.findFunction('ProbeA').maxInstances).toBe(3);
    expect(local.findFunction('ProbeB').maxInstances).toBe(1);
  });

  it("lets an invoke hook time the handler's own run (not its wait for the instance) and change its event", async () => {
    // Prepare
    const local = start();
    const runMs: number[] = [];
    local.onInvoke(async (invocation, run) => {
      const started = Date.now();
      try {
        return await run({ ...(invocation.event as object), label: 'from the hook' });
      } finally {
        runMs.push(Date.now() - started);
      }
    });
    // Act
    const [first, second] = await Promise.all([
      invokeProbe(local, 'ProbeA', { waitMs: 300 }),
      invokeProbe(local, 'ProbeA', { waitMs: 300 }),
    ]);
    // Assess
    expect(runMs).toHaveLength(2);
    for (const ms of runMs) expect(ms).toBeLessThan(550);
    expect([first.label, second.label]).toEqual(['from the hook', 'from the hook']);
  });

  it('applies client plugins registered by the host to the clients a function builds', async () => {
    // Prepare: a plugin that answers ListBuckets itself (nothing reaches the unused endpoint)
    const seen: string[] = [];
    const answering: Pluggable<object, object> = {
      applyToStack: (stack) =>
        stack.add(
          (_next, context) => async () => {
            seen.push(String(context.commandName));
            return { output: { Buckets: [], $metadata: {} }, response: {} };
          },
          { step: 'initialize', name: 'answerLocally' },
        ),
    };
    const unregister = registerClientPlugin(answering);
    try {
      const local = start();
      // Act
      await invokeProbe(local, 'ProbeB', { callS3: true });
    } finally {
      unregister();
    }
    // Assess
    expect(seen).toEqual(['ListBucketsCommand']);
  });
});
