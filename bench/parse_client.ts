/**
 * The benchmark's yardstick: a bare Deno client that subscribes to the given combined-stream URLs and only
 * `JSON.parse`s every frame. Prints one JSON line when done: frames, CPU seconds and peak RSS of the process.
 *
 * `deno run --allow-net --allow-read bench/parse_client.ts SECONDS URL...`
 */
import process from "node:process";

const [seconds, ...urls] = Deno.args;
if (!(Number(seconds) > 0) || urls.length === 0) {
  console.error("usage: parse_client.ts SECONDS URL...");
  Deno.exit(2);
}
let frames = 0;
let keys = 0;
const sockets = urls.map((url) => {
  const ws = new WebSocket(url);
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data as string);
    frames++;
    if (msg.stream !== undefined) keys++; // keep the parse observable
  };
  return ws;
});
const c0 = process.cpuUsage();
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const c1 = process.cpuUsage(c0);
for (const ws of sockets) ws.close();
const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
console.log(JSON.stringify({
  frames,
  keys,
  cpuSeconds: (c1.user + c1.system) / 1e6,
  peakRssMb: hwm ? Number(hwm[1]) / 1024 : Deno.memoryUsage().rss / 1048576,
}));
Deno.exit(0);
