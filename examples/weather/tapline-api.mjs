// The few calls the example makes to tapline's HTTP API, as a curl user would make them.

export function taplineApi(baseUrl) {
  async function call(method, path, body) {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const answer = text ? JSON.parse(text) : undefined;
    if (!response.ok) {
      const message = answer?.error?.message ?? text;
      throw new Error(`${method} ${path} answered ${response.status}: ${message}`);
    }
    return answer;
  }

  return {
    call,
    savePipeline: (pipeline) => call('PUT', `/pipelines/${pipeline.name}`, pipeline),
    saveTap: (tap) => call('PUT', `/taps/${tap.name}`, tap),
    runTap: (request) => call('POST', '/tap/run', request),
    run: (runId) => call('GET', `/runs/${runId}`),
    state: (tap) => call('GET', `/taps/${tap}/state`),

    /** Polls the load of a run-mode answer until every job has ended; returns the rollup. */
    async waitForLoad(publisherToken, { timeoutMs = 120_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const query = `publishertoken=${publisherToken}&withrollup=true`;
        const { rollup } = await call('GET', `/pipeline/status?${query}`);
        if (rollup.allDone) return rollup;
        if (Date.now() > deadline) throw new Error(`load not done after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },

    /** State commits once the load has succeeded; this waits for that to be visible. */
    async waitForStateCommit(runId, { timeoutMs = 30_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = await call('GET', `/runs/${runId}`);
        if (run.stateCommitted) return run;
        if (Date.now() > deadline) throw new Error(`state of run ${runId} not committed`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
