// How a command's errors become lines and exit statuses (src/cli/run.ts).
import { describe, expect, it } from 'vitest';
import { describeFailure, EXIT_BUG, EXIT_FAILURE, EXIT_USAGE, runCommand } from '../../src/cli/run';
import { ConfigError, DataFormatError, DeviceUnavailableError, NonFiniteError, ShapeError, UsageError } from '../../src/errors';
import { STACK_FRAME } from '../helpers/cli';

describe('describeFailure', () => {
  it('mistakes in the invocation or its inputs: one line, exit status 2', () => {
    for (const error of [new UsageError('--lr expects a positive number; got \'-1\'', 'lr', '-1'), new ConfigError('c'), new ShapeError('s'), new DataFormatError('d')]) {
      const { lines, status } = describeFailure('train', error);
      expect(status).toBe(EXIT_USAGE);
      expect(lines).toEqual([`webgrad train: ${error.message}`]);
    }
  });

  it('a failed run: its message, exit status 1, no stack', () => {
    for (const error of [new DeviceUnavailableError('No WebGPU adapter was found.'), new NonFiniteError('diverged', 2, 3)]) {
      const { lines, status } = describeFailure('train', error);
      expect(status).toBe(EXIT_FAILURE);
      expect(lines.join('\n')).not.toMatch(STACK_FRAME);
    }
    const io = Object.assign(new Error("EACCES: permission denied, open 'w.safetensors'"), { code: 'EACCES', syscall: 'open' });
    expect(describeFailure('train', io)).toEqual({ lines: ["webgrad train: EACCES: permission denied, open 'w.safetensors'"], status: EXIT_FAILURE });
  });

  it('anything else is a bug: said so on the first line, then the trace', () => {
    const { lines, status } = describeFailure('train', new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(status).toBe(EXIT_BUG);
    expect(lines[0]).toBe('webgrad train: internal error: this is a bug in webgrad; please report it with the trace below.');
    expect(lines[1]).toMatch(/^TypeError: Cannot read properties/);
    expect(lines[1]).toMatch(STACK_FRAME);
  });

  it('runCommand never throws', async () => {
    const err: string[] = [];
    const status = await runCommand('x', async () => Promise.reject(new ConfigError('no')), [], { out: () => {}, err: (t) => err.push(t) });
    expect([status, err]).toEqual([2, ['webgrad x: no']]);
  });
});
