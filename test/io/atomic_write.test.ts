import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { temporaryPathFor, writeFileAtomically } from '../../src/io/atomic_write';

describe('atomic checkpoint writes', () => {
  it('replaces the file whole and leaves no temporary file behind', () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-'));
    const path = join(dir, 'run.safetensors');
    writeFileSync(path, 'old checkpoint');
    writeFileAtomically(path, new TextEncoder().encode('new checkpoint'));
    expect(readFileSync(path, 'utf8')).toBe('new checkpoint');
    expect(readdirSync(dir)).toEqual(['run.safetensors']);
  });

  it('a write that fails before the rename leaves the previous checkpoint intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'webgrad-'));
    const path = join(dir, 'run.safetensors');
    writeFileSync(path, 'last good checkpoint');
    // Make the temporary path a directory, so writing it fails, as a crash mid-write would.
    mkdirSync(temporaryPathFor(path));
    expect(() => writeFileAtomically(path, new TextEncoder().encode('half a checkpoint'))).toThrow();
    expect(readFileSync(path, 'utf8')).toBe('last good checkpoint');
  });

  it('names the temporary file for the process, so two processes saving one path never share it', () => {
    expect(temporaryPathFor('/runs/a.safetensors')).toBe(`/runs/a.safetensors.${process.pid}.tmp`);
  });
});
