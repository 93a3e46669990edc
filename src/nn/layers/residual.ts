/**
 * {"type": "Residual", "body": [...], "shortcut": [...]}: y = body(x) + shortcut(x), the shortcut being the
 * identity unless given (a 1×1 convolution, say, where the body changes the shape). In PyTorch it is a
 * module holding `self.body = nn.Sequential(...)` (and `self.shortcut`), so its parameters are named
 * `<i>.body.<j>.weight`; python/webgrad_torch.py defines it.
 */
import type { LayerKind, LayerSpec } from './kind';

export const Residual: LayerKind = {
  args: { body: { kind: 'layers', required: true }, shortcut: { kind: 'layers' } },
  children(args) {
    return { body: args.body as LayerSpec[], ...(args.shortcut ? { shortcut: args.shortcut as LayerSpec[] } : {}) };
  },
  infer(_args, input, fail, outputs) {
    const skip = outputs.shortcut ?? input;
    if (outputs.body.join() !== skip.join()) {
      fail(`the body turns [${input.join(', ')}] into [${outputs.body.join(', ')}], which cannot be added to the ${outputs.shortcut ? 'shortcut' : 'input'} [${skip.join(', ')}]${outputs.shortcut ? '' : ' (give a "shortcut" list that maps the input to the same shape)'}`);
    }
    return [...outputs.body];
  },
  forward(_args, x, ctx, children) {
    const body = children.body(x);
    const skip = children.shortcut ? children.shortcut(x) : x;
    return ctx.graph.add('add', [body, skip], { name: ctx.name })[0];
  },
};
