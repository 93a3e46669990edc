/** Layer lists the tests, the bench and the docs share: the CNN and a small residual network. */
import type { LayerSpec } from '../../src/nn/model';

export const CNN: LayerSpec[] = [
  { type: 'Conv2d', in_channels: 1, out_channels: 16, kernel_size: 5, padding: 2 },
  { type: 'BatchNorm2d', num_features: 16 },
  { type: 'ReLU' },
  { type: 'MaxPool2d', kernel_size: 2 },
  { type: 'Conv2d', in_channels: 16, out_channels: 32, kernel_size: 5 },
  { type: 'ReLU' },
  { type: 'MaxPool2d', kernel_size: 2 },
  { type: 'Flatten' },
  { type: 'Linear', in_features: 800, out_features: 128 },
  { type: 'ReLU' },
  { type: 'Dropout', p: 0.3 },
  { type: 'Linear', in_features: 128, out_features: 10 },
];

/**
 * A residual network of two ResNet basic blocks (the second changes the width, so its shortcut is a 1×1
 * convolution), with batch norm, group norm and both poolings, for about the cost of the CNN.
 */
export const RESNET: LayerSpec[] = [
  { type: 'Conv2d', in_channels: 1, out_channels: 16, kernel_size: 5, padding: 2 },
  { type: 'ReLU' },
  { type: 'MaxPool2d', kernel_size: 2 },
  { type: 'Residual', body: [
    { type: 'Conv2d', in_channels: 16, out_channels: 16, kernel_size: 3, padding: 1, bias: false },
    { type: 'BatchNorm2d', num_features: 16 },
    { type: 'ReLU' },
    { type: 'Conv2d', in_channels: 16, out_channels: 16, kernel_size: 3, padding: 1, bias: false },
    { type: 'BatchNorm2d', num_features: 16 },
  ] },
  { type: 'ReLU' },
  { type: 'AvgPool2d', kernel_size: 2 },
  { type: 'Residual', body: [
    { type: 'Conv2d', in_channels: 16, out_channels: 32, kernel_size: 3, padding: 1 },
    { type: 'GroupNorm', num_groups: 4, num_channels: 32 },
    { type: 'ReLU' },
    { type: 'Conv2d', in_channels: 32, out_channels: 32, kernel_size: 3, padding: 1 },
  ], shortcut: [{ type: 'Conv2d', in_channels: 16, out_channels: 32, kernel_size: 1 }] },
  { type: 'ReLU' },
  { type: 'Flatten' },
  { type: 'Linear', in_features: 1568, out_features: 10 },
];
