/**
 * `--classes LIST`: train and test on some classes only, e.g. `0-4` (digits 0 to 4), `5,7,9`, `0-2,8`.
 * The classes are relabelled 0, 1, ... in the order the list gives them (`5,7,9`: 5 → 0, 7 → 1, 9 → 2),
 * so the model needs one output per listed class. The list is read with the flags; it is checked against
 * the data once the data is read, before any GPU work.
 */
import { selectClasses, type Dataset } from '../data/dataset';
import { InvalidValue } from './flags';
import { parseIndexList } from './index_list';

export interface ClassList {
  classes: number[];
  /** The list as given, for messages. */
  text: string;
}

export const CLASS_LIST_EXPECTED = "class numbers and ranges joined by commas, such as 0-4, 5,7,9 or 0-2,8";

/** `0-4`, `5,7,9`, `0-2,8`: whole numbers and ascending ranges, each class once, at least two in all. */
export function parseClassList(text: string): ClassList {
  const classes = parseIndexList(text, 'class', 'classes');
  if (classes.length < 2) throw new InvalidValue('a classifier needs at least two classes');
  return { classes, text };
}

/**
 * Both splits with only the listed classes, relabelled; InvalidValue (its detail for the flag's message)
 * when the data has no class labels, a class is not in the data, or the training split lacks one of them.
 */
export function selectDataClasses(train: Dataset, test: Dataset, list: ClassList): { train: Dataset; test: Dataset } {
  if (!train.labels) throw new InvalidValue('the data has float targets, not class labels');
  const numClasses = train.numClasses ?? 0;
  const outside = list.classes.find((c) => c >= numClasses);
  if (outside !== undefined) throw new InvalidValue(`class ${outside} is not in the data, whose ${numClasses} classes are 0-${numClasses - 1}`);
  const selected = { train: selectClasses(train, list.classes), test: selectClasses(test, list.classes) };
  const counts = new Uint32Array(list.classes.length);
  for (const label of selected.train.labels!) counts[label]++;
  const empty = counts.findIndex((n) => n === 0);
  if (empty >= 0) throw new InvalidValue(`the training data has no samples of class ${list.classes[empty]}`);
  return selected;
}
