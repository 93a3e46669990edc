/** Every layer kind, by its torch.nn class name. */
import { activationLayers } from './activation';
import { Conv2d } from './conv';
import { Dropout } from './dropout';
import { Flatten } from './flatten';
import type { LayerKind } from './kind';
import { Linear } from './linear';
import { BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d, LayerNorm } from './norm';
import { AvgPool2d, MaxPool2d } from './pool';
import { Residual } from './residual';

export const layerKinds: Record<string, LayerKind> = {
  Linear,
  Conv2d,
  MaxPool2d,
  AvgPool2d,
  Flatten,
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  GroupNorm,
  InstanceNorm2d,
  Dropout,
  ...activationLayers,
  Residual,
};

export type { LayerSpec, LayerKind } from './kind';
