/** Atomics.waitAsync (ES2024, present in Node 20) typed for our ES2022 lib. */
type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult;
}

/** Resolves when `array[index]` is notified or no longer `value`, or after `timeoutMs`. */
export async function waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): Promise<void> {
  const r = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(array, index, value, Math.max(0, timeoutMs));
  if (r.async) await r.value;
}
