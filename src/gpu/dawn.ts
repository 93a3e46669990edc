/**
 * Node only: loading Dawn (the `webgpu` package, an optional peer dependency) and, when asked, putting its
 * WebGPU globals on globalThis. Nothing here runs at import time; requestGpu calls it (see DeviceOptions).
 */
import { DeviceUnavailableError } from '../errors';

/** The WebGPU constants and classes the engine reads as globals, as in a browser (GPUBufferUsage ...). */
export const WEBGPU_GLOBALS = ['GPUBufferUsage', 'GPUMapMode', 'GPUShaderStage'] as const;

/** Node: imports the `webgpu` package (an optional peer dependency), with an error that says how to install it. */
export async function importDawn(): Promise<{ create: (flags: string[]) => GPU; globals: Record<string, unknown> }> {
  // Module names in variables, so browser bundlers leave these Node-only imports alone.
  const webgpuModule = 'webgpu';
  try {
    return await import(/* @vite-ignore */ webgpuModule);
  } catch (error) {
    const missing = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(`'${webgpuModule}'`);
    throw new DeviceUnavailableError(
      missing
        ? "WebGPU in Node needs the `webgpu` package (Dawn), an optional peer dependency of webgrad that is not installed. Run `npm install webgpu`; browsers need nothing."
        : `The \`webgpu\` package (Dawn) is installed but failed to load: ${(error as Error).message}. Reinstall it (\`npm install webgpu\`) or check that it ships a binary for ${globalThis.process?.platform}-${globalThis.process?.arch}.`,
    );
  }
}

/**
 * Node: puts Dawn's WebGPU globals (GPUBufferUsage, GPUMapMode, GPUShaderStage and the GPU* classes) on
 * globalThis where they are missing; existing ones are left alone. requestGpu does it unless told not to.
 */
export async function installNodeGlobals(): Promise<void> {
  const { globals } = await importDawn();
  for (const [name, value] of Object.entries(globals)) if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
}

/** Which of the globals the engine reads are not defined (empty in browsers and after installNodeGlobals). */
export function missingWebGpuGlobals(): string[] {
  return WEBGPU_GLOBALS.filter((name) => !(name in globalThis));
}
