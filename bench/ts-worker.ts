import { Worker } from 'node:worker_threads';

const tsxApi = import.meta.resolve('tsx/esm/api');

/**
 * A worker thread running a TypeScript file. Node 20 does not pass tsx's loader on to workers
 * (`--import tsx` in execArgv is not enough), so a tiny JavaScript entry registers it first.
 */
export function startTsWorker(file: URL, workerData: unknown): Worker {
  const entry = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(entry, { eval: true, workerData });
}

/** Resolves with the worker's next message of the given type; rejects on error, exit or timeout. */
export function nextMessage<T extends { type: string }>(
  worker: Worker,
  type: T['type'],
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (m: { type: string; message?: string }) => {
      if (m.type === 'error') {
        cleanup();
        reject(new Error(m.message ?? 'worker error'));
      } else if (m.type === type) {
        cleanup();
        resolve(m as T);
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`worker exited with code ${code}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`worker sent no ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
