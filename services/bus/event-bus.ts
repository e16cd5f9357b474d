import type { BusEventName, BusEvents } from '../../contract/index.js';

type Listener<K extends BusEventName> = (payload: BusEvents[K]) => void;

interface Log {
  error(obj: object, msg: string): void;
}

/**
 * The typed in-process event bus that links the hub's parts: a part emits what happened, and
 * every part that cares listens, without either knowing the other. Delivery is synchronous, in
 * the order listeners were added, so a listener must be quick (mark something dirty, enqueue);
 * one that throws is logged and counted and never stops the emitter or the other listeners —
 * ingest emits from its commit path and must not be broken by a dashboard bug.
 */
export class EventBus {
  private readonly listeners = new Map<BusEventName, Set<Listener<BusEventName>>>();
  readonly stats = { emitted: 0, listenerErrors: 0 };
  /**
   * True while an event that happened on another hub of the cluster is delivered (the relay emits
   * it here): a listener that writes what it hears, once per cluster, skips it.
   */
  fromOtherHub = false;

  constructor(private log: Log = { error: () => {} }) {}

  /** Returns the function that removes this listener; a part keeps it and calls it in stop(). */
  on<K extends BusEventName>(name: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as Listener<BusEventName>);
    return () => set.delete(listener as Listener<BusEventName>);
  }

  /** Several listeners at once, removed together: `const off = bus.onMany({...}); off()`. */
  onMany(listeners: { [K in BusEventName]?: Listener<K> }): () => void {
    const offs = Object.entries(listeners).map(([name, l]) =>
      this.on(name as BusEventName, l as Listener<BusEventName>),
    );
    return () => {
      for (const off of offs) off();
    };
  }

  emit<K extends BusEventName>(name: K, payload: BusEvents[K]): void {
    this.stats.emitted += 1;
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(payload);
      } catch (err) {
        this.stats.listenerErrors += 1;
        this.log.error({ err, event: name }, 'event bus listener failed');
      }
    }
  }

  listenerCount(name: BusEventName): number {
    return this.listeners.get(name)?.size ?? 0;
  }
}
