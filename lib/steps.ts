/**
 * Long synchronous jobs written as generators that yield between steps, so that one caller can spread them
 * over turns of the event loop (`runInSlices` in loop_lag.ts) and another run them at once.
 * @module
 */

/** Runs `steps` to the end at once and returns what it returns. */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (let step = steps.next();; step = steps.next()) if (step.done) return step.value;
}
