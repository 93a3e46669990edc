/**
 * Counts what the host asks of the GPU, by wrapping WebGPU's methods on their prototypes: compute
 * dispatches, queue submits (and the command buffers in them), buffer writes and map requests (readbacks).
 * What a training step costs the host is the number of these per step; on a fast GPU with a small model,
 * the step time is that count times each call's latency, not the kernels' arithmetic.
 *
 * The prototypes come from live objects of the device (an encoder, a pass, the queue), so this works with
 * any WebGPU implementation whose methods live on prototypes (Dawn in Node, browsers).
 */
const COUNTED = {
  pass: ['dispatchWorkgroups', 'dispatchWorkgroupsIndirect'],
  queue: ['submit', 'writeBuffer'],
  buffer: ['mapAsync'],
};

/** Installs the counters on `device`'s prototypes; returns { counts, reset(), remove() }. */
export function countGpuCalls(device) {
  const counts = { dispatches: 0, submits: 0, commandBuffers: 0, writeBuffers: 0, mapAsyncs: 0 };
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  const passProto = Object.getPrototypeOf(pass);
  pass.end();
  encoder.finish();
  const queueProto = Object.getPrototypeOf(device.queue);
  const probe = device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bufferProto = Object.getPrototypeOf(probe);
  probe.destroy();

  const restore = [];
  const wrap = (proto, name, count) => {
    const original = proto[name];
    if (typeof original !== 'function') return;
    proto[name] = function (...args) {
      count(args);
      return original.apply(this, args);
    };
    restore.push(() => {
      proto[name] = original;
    });
  };
  for (const name of COUNTED.pass) wrap(passProto, name, () => counts.dispatches++);
  wrap(queueProto, 'submit', ([buffers]) => {
    counts.submits++;
    counts.commandBuffers += buffers?.length ?? 0;
  });
  wrap(queueProto, 'writeBuffer', () => counts.writeBuffers++);
  wrap(bufferProto, 'mapAsync', () => counts.mapAsyncs++);

  return {
    counts,
    reset() {
      for (const key of Object.keys(counts)) counts[key] = 0;
    },
    /** The counts divided by `steps`, to 3 significant figures. */
    perStep(steps) {
      return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, Number((v / steps).toPrecision(3))]));
    },
    remove() {
      for (const undo of restore.reverse()) undo();
    },
  };
}
