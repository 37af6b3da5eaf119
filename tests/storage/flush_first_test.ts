import assert from "node:assert/strict";
import { FlushFirst, MAX_WAIT_MS, QUIET_MS } from "../../lib/storage/flush_first.ts";

/** Whether `p` settled within a few of the gate's polls. */
async function settles(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => done = true);
  await new Promise((r) => setTimeout(r, 3 * QUIET_MS));
  return done;
}

function manual() {
  let release!: () => void;
  const job = new Promise<void>((r) => release = r);
  return { job, release };
}

Deno.test("FlushFirst.turn() goes at once when no flush job ran", async () => {
  const turns = new FlushFirst(() => 1_000);
  assert.equal(turns.busy, false);
  assert.equal(await settles(turns.turn()), true);
});

Deno.test("FlushFirst.turn() waits while a flush job runs and for a quiet moment after it", async () => {
  let now = 1_000;
  const turns = new FlushFirst(() => now);
  const { job, release } = manual();
  const running = turns.job(() => job.then(() => "written"));
  const turn = turns.turn();
  assert.equal(await settles(turn), false);
  release();
  assert.equal(await running, "written");
  // The job just ended: the next one of the flush may come right after it.
  assert.equal(turns.busy, true);
  assert.equal(await settles(turn), false);
  now += QUIET_MS;
  assert.equal(await settles(turn), true);
});

Deno.test("FlushFirst.turn() waits for a job that fails too, and at most MAX_WAIT_MS for one that never ends", async () => {
  let now = 1_000;
  const turns = new FlushFirst(() => now);
  await assert.rejects(turns.job(() => Promise.reject(new Error("disk full"))), /disk full/);
  assert.equal(turns.busy, true);
  now += QUIET_MS;
  assert.equal(turns.busy, false);
  const { job, release } = manual();
  const running = turns.job(() => job);
  const turn = turns.turn();
  now += MAX_WAIT_MS - 1;
  assert.equal(await settles(turn), false);
  now += 1;
  assert.equal(await settles(turn), true);
  release();
  await running;
});
