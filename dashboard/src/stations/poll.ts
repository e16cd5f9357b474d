import type { PublicStations } from '../../../contract/index.js';

/**
 * Live updates by short polling with the ETag (services/finder/routes.ts says why not SSE): an
 * unchanged snapshot is a 304 and the page keeps what it has.
 */
export function pollStations(
  path: string,
  everyMs: number,
  onData: (d: PublicStations) => void,
  onError: (failed: boolean) => void,
): () => void {
  let etag: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      const res = await fetch(path, {
        cache: 'no-store',
        headers: { accept: 'application/json', ...(etag ? { 'if-none-match': etag } : {}) },
      });
      if (res.status === 200) {
        etag = res.headers.get('etag');
        onData((await res.json()) as PublicStations);
        onError(false);
      } else if (res.status === 304) onError(false);
      else onError(true);
    } catch {
      onError(true);
    }
    if (!stopped) timer = setTimeout(tick, everyMs);
  };
  void tick();
  // A phone brought back to the screen asks at once rather than at the next tick.
  const onVisible = () => {
    if (document.visibilityState !== 'visible' || stopped) return;
    clearTimeout(timer);
    void tick();
  };
  document.addEventListener('visibilitychange', onVisible);
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
