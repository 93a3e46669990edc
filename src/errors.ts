/**
 * Typed errors. Every message says what was expected, what was found, and (where it helps) what to do.
 * Callers can branch on the class; users read the message.
 */
export class WebgradError extends Error {
  constructor(message: string) {
    super(message);
    // A subclass of the user's own is named by its class; webgrad's own classes set their names as string
    // literals below, because a minifier renames classes (a bundled app, e.g. the demo's build, would
    // otherwise see 'e' for ShapeError) and the worker protocol revives errors by name.
    this.name = new.target.name;
  }
}

/** Tensor shapes that do not fit an op, a layer stack, or the data. */
export class ShapeError extends WebgradError {
  override name = 'ShapeError';
}

/** A file or buffer that is not what its format promises (IDX, NPY, safetensors), or data files that do not fit together. */
export class DataFormatError extends WebgradError {
  override name = 'DataFormatError';
}

/** A setting outside its domain: a negative learning rate, an unknown optimizer name, NaN in the data. */
export class ConfigError extends WebgradError {
  override name = 'ConfigError';
}

/**
 * A command-line mistake: an unknown flag, a missing value, a value of the wrong type or range, a path that
 * does not exist or is of the wrong kind. `flag` is the flag's name without dashes (undefined for a stray
 * argument); the message is one line that names the flag and the value and says what was expected.
 */
export class UsageError extends WebgradError {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly flag?: string,
    readonly value?: string,
  ) {
    super(message);
  }
}

/** No WebGPU adapter, or a request beyond the adapter's limits. */
export class DeviceUnavailableError extends WebgradError {
  override name = 'DeviceUnavailableError';
}

/** The GPUDevice was lost (driver reset, `device.destroy()`, tab backgrounded too long). */
export class DeviceLostError extends WebgradError {
  override name = 'DeviceLostError';
  constructor(
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

/** A WGSL compile or pipeline validation error, or an uncaptured GPU error, named by shader and line. */
export class GPUValidationError extends WebgradError {
  override name = 'GPUValidationError';
}

/** The loss or the gradients became NaN or Inf during training. */
export class NonFiniteError extends WebgradError {
  override name = 'NonFiniteError';
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

/**
 * A short, single-line rendering of any value for an error message: JSON where possible, cut to `maxChars`.
 * Never throws (JSON.stringify does on cycles, BigInt and very deep nesting), so a parser's error path cannot
 * fail while describing the input it refuses.
 */
export function preview(value: unknown, maxChars = 60): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Array.isArray(value) ? `an array of ${value.length}` : typeof value === 'object' && value !== null ? 'an object' : typeof value;
  }
  text = text.replace(/[\r\n]+/g, ' ');
  return text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text;
}
