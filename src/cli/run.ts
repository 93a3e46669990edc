/**
 * How every CLI command starts and ends. A command is `main(argv, io)`: tests call it directly with a
 * recording `io`; the built entry point (`node dist/train.js`) runs it through `runIfEntryPoint`, which
 * turns whatever it throws into one or two lines on stderr and an exit status:
 *     0   done
 *     2   the invocation or its inputs are wrong: UsageError, ConfigError, ShapeError, DataFormatError
 *     1   the run failed: no GPU, device lost, training diverged, a file that could not be written
 *     70  a bug: any other error; only then is a stack trace printed, under a line that says it is a bug
 * Messages are prefixed `webgrad <command>: ` so they read as the tool's own, not as a crash.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, DataFormatError, ShapeError, UsageError, WebgradError } from '../errors';

export interface CliIo {
  /** One line (or several joined by \n) of regular output. */
  out(text: string): void;
  /** Warnings and errors. */
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

export type Command = (argv: readonly string[], io: CliIo) => Promise<void>;

export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;
export const EXIT_BUG = 70;

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** The lines to print and the exit status for an error a command threw. */
export function describeFailure(command: string, error: unknown): { lines: string[]; status: number } {
  const prefix = `webgrad ${command}: `;
  if (error instanceof UsageError || error instanceof ConfigError || error instanceof ShapeError || error instanceof DataFormatError) {
    return { lines: [prefix + error.message], status: EXIT_USAGE };
  }
  if (error instanceof WebgradError) return { lines: [prefix + error.message], status: EXIT_FAILURE };
  // fs errors already read as one line: "EACCES: permission denied, open 'run.safetensors'".
  if (isSystemError(error)) return { lines: [prefix + error.message], status: EXIT_FAILURE };
  const trace = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return { lines: [`${prefix}internal error: this is a bug in webgrad; please report it with the trace below.`, trace], status: EXIT_BUG };
}

/** Runs `main` and returns the exit status; every error is reported on `io.err`, nothing is thrown. */
export async function runCommand(command: string, main: Command, argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    await main(argv, io);
    return 0;
  } catch (error) {
    const { lines, status } = describeFailure(command, error);
    lines.forEach((line) => io.err(line));
    return status;
  }
}

/** True when the module at `moduleUrl` is the script Node was started with (not imported by a test). */
export function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * Runs the command with the process's argv and exits with its status, when this module is the entry point.
 * An error that escapes the command's promise (a rejected fire-and-forget promise) is reported the same way.
 */
export function runIfEntryPoint(moduleUrl: string, command: string, main: Command): void {
  if (isEntryPoint(moduleUrl)) runAsProcess(command, main, process.argv.slice(2));
}

/** Runs the command as this process (the bin entry's subcommands too): errors reported, exit with its status. */
export function runAsProcess(command: string, main: Command, argv: readonly string[]): void {
  const fail = (error: unknown) => {
    const { lines, status } = describeFailure(command, error);
    lines.forEach((line) => processIo.err(line));
    process.exit(status);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // process.exit: Dawn keeps the event loop alive after the device is destroyed.
  void runCommand(command, main, argv).then((status) => process.exit(status));
}
