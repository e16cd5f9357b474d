import { ref, shallowRef } from 'vue';

/**
 * A form's or an item's requests, one at a time: `busy` while `run(action)` is under way, and what
 * the last one threw, as `toError` puts it for the template (cleared when the next one starts).
 */
export function useAction<E>(toError: (err: unknown) => E, initialError: E | null = null) {
  const busy = ref(false);
  const error = shallowRef<E | null>(initialError);
  async function run(action: () => Promise<void>): Promise<void> {
    busy.value = true;
    error.value = null;
    try {
      await action();
    } catch (err) {
      error.value = toError(err);
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, run };
}
