import assert from "node:assert/strict";
import { statFields } from "../bench/proc.ts";

Deno.test("statFields: a command name with spaces and parentheses does not shift the fields", () => {
  const line = "4242 (deno) (x) y) S 17 4242 17 0 -1 4194560 1 0 0 0 250 31 7 2 20 10 9\n";
  const fields = statFields(line);
  assert.deepEqual(fields[0], "S"); // field 3, the state
  assert.deepEqual(fields[1], "17"); // field 4, the parent
  assert.deepEqual(fields.slice(11, 15), ["250", "31", "7", "2"]); // fields 14–17: utime, stime, cutime, cstime
  assert.deepEqual(fields[16], "10"); // field 19, nice
});
