/**
 * Layer lists the tests, the bench and the docs share, read from models/*.json (what `npm run train --
 * --model models/cnn.json` trains): the issue's CNN, and a residual network of two ResNet basic blocks
 * (the second changes the width, so its shortcut is a 1×1 convolution) with batch norm, group norm and
 * both poolings, for about the cost of the CNN.
 */
import { readFileSync } from 'node:fs';
import type { LayerSpec } from '../../src/nn/model';

const read = (name: string): LayerSpec[] => JSON.parse(readFileSync(new URL(`../../models/${name}.json`, import.meta.url), 'utf8')) as LayerSpec[];

export const CNN = read('cnn');
export const RESNET = read('resnet');
