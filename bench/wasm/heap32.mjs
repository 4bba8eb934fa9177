// The heap run of tests/firmware/emu/heaprun.py on MicroPython's WebAssembly port: wasm32, so
// 4-byte pointers and 16-byte heap blocks as on an ESP32. bench/firmware_heap.py runs it:
//   node heap32.mjs BOARD_DIR HEAP_BYTES READINGS
// BOARD_DIR (tests/firmware/heapfs.py) is copied into the port's in-memory filesystem. Prints one
// JSON line. This build ("pyscript") collects garbage only when a call from JavaScript returns,
// and grows its heap instead of failing; so each step of the run is one call, and a run "fits"
// in HEAP_BYTES when the heap never had to grow.
import fs from "node:fs";
import path from "node:path";

import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const [boardDir, heapBytes, readings] = process.argv.slice(2);
const printed = [];
const mp = await loadMicroPython({
  heapsize: Number(heapBytes),
  stdout: (line) => printed.push(line),
  stderr: (line) => printed.push(line),
});

function copyIn(from, to) {
  mp.FS.mkdir(to);
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    if (entry.isDirectory()) copyIn(src, `${to}/${entry.name}`);
    else mp.FS.writeFile(`${to}/${entry.name}`, fs.readFileSync(src));
  }
}

copyIn(boardDir, "/board");
mp.pyimport("os").chdir("/board");
const run = mp.pyimport("heaprun");
const heap = run.total();
const result = { mpy: mp.pyimport("sys").implementation._mpy };
try {
  for (const name of run.prepare()) run.load(name);
  run.boot(Number(readings));
  const loaded = run.live();
  let live = loaded;
  let high = 0;
  for (let used = run.step(); used >= 0; used = run.step()) {
    high = Math.max(high, used);
    live = Math.max(live, run.live());
  }
  const grew = run.peak_total > heap;
  Object.assign(result, { loaded, live_peak: live, step_peak: high, grew, outcome: run.outcome() });
} catch (error) {
  result.error = `${error.message} (last output: ${printed.slice(-3).join(" | ")})`;
}
console.log(JSON.stringify(result));
