/**
 * Typed errors. Every message says what was expected, what was found, and (where it helps) what to do.
 * Callers can branch on the class; users read the message.
 */
export class WebgradError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Tensor shapes that do not fit an op, a layer stack, or the data. */
export class ShapeError extends WebgradError {}

/** A file or buffer that is not what its format promises (IDX, safetensors). */
export class DataFormatError extends WebgradError {}

/** A setting outside its domain: a negative learning rate, an unknown optimizer name, NaN in the data. */
export class ConfigError extends WebgradError {}

/** No WebGPU adapter, or a request beyond the adapter's limits. */
export class DeviceUnavailableError extends WebgradError {}

/** The GPUDevice was lost (driver reset, `device.destroy()`, tab backgrounded too long). */
export class DeviceLostError extends WebgradError {
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** A WGSL compile or pipeline validation error, or an uncaptured GPU error, named by shader and line. */
export class GPUValidationError extends WebgradError {}

/** The loss or the gradients became NaN or Inf during training. */
export class NonFiniteError extends WebgradError {
  constructor(
    message: string,
    readonly epoch: number,
    readonly step: number,
  ) {
    super(message);
  }
}

/** Throws `ConfigError`-style invariants with a readable message. */
export function invariant(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new WebgradError(typeof message === 'string' ? message : message());
}
