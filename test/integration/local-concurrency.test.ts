import type { LocalPipeline } from '../../local/environment';
import { PipelineDriver } from '../../local/pipeline-driver';
import { sleep } from '../../local/poller-context';
import { startTestPipeline } from '../helpers/local-pipeline';

describe('the local runtime runs the concurrency the template declares', () => {
  let pipeline: LocalPipeline;
  let driver: PipelineDriver;

  beforeAll(async () => {
    // One poller per queue: what runs at once is what the mapping drives, not the poller count.
    pipeline = await startTestPipeline({
      instancesPerFunction: 'template',
      concurrencyPerMapping: 1,
    });
    driver = new PipelineDriver(pipeline, { source: '/concurrency-test', tenant: 'acme-sas' });
  });
  afterAll(async () => {
    driver?.destroy();
    await pipeline?.stop();
  });

  it('drives several batches of one queue at once, each on its own instance, one batch per instance', async () => {
    // Prepare: hold every upload invocation a while, and record which instances run together
    const { runtime } = pipeline;
    let running = 0;
    let mostAtOnce = 0;
    const busy = new Set<number>();
    let sharedInstance = false;
    const unhook = runtime.onInvoke(async (invocation, run) => {
      if (invocation.fn.key !== 'document-upload') return run(invocation.event);
      if (busy.has(invocation.instance)) sharedInstance = true;
      busy.add(invocation.instance);
      running += 1;
      mostAtOnce = Math.max(mostAtOnce, running);
      try {
        await sleep(1500);
        return await run(invocation.event);
      } finally {
        running -= 1;
        busy.delete(invocation.instance);
      }
    });
    const events = [];
    for (let i = 0; i < 40; i += 1)
      events.push(await driver.upload(`conc-${i}`, `conc-doc-${i}`, 'accounting-document'));
    // Act
    try {
      await driver.send(...events);
    } finally {
      unhook();
    }
    // Assess: several batches at once, never two on one instance, within the template's maximum
    const upload = runtime.findFunction('document-upload');
    expect(mostAtOnce).toBeGreaterThan(1);
    expect(mostAtOnce).toBeLessThanOrEqual(upload.maxInstances);
    expect(sharedInstance).toBe(false);
    expect(Object.keys(await driver.items('conc-39'))).toEqual(['conc-doc-39']);
  });
});
