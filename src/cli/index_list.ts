/**
 * Lists of whole numbers and ascending ranges joined by commas, as `--classes 0-4,8` and `--freeze 0-5`
 * take them: `0-4` (0 to 4), `5,7,9`, `0-2,8`. Each number once, in the order given.
 */
import { InvalidValue } from './flags';

/** Longer lists than any model or dataset here has; a range like 0-999999999 is a typo, not a request. */
const MAX_LISTED = 65536;

/** The numbers of `text`; `noun` and `plural` name them in messages ('class', 'classes'). */
export function parseIndexList(text: string, noun: string, plural = `${noun}s`): number[] {
  const listed: number[] = [];
  const seen = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) throw new InvalidValue(part.trim() === '' ? 'an empty item in the list' : `'${part}' is not a ${noun} number or a range A-B`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) throw new InvalidValue(`'${part}' is too large for a ${noun} number`);
    if (last < first) throw new InvalidValue(`the range ${first}-${last} runs backwards; write ${last}-${first}`);
    if (listed.length + (last - first + 1) > MAX_LISTED) throw new InvalidValue(`more than ${MAX_LISTED} ${plural}`);
    for (let c = first; c <= last; c++) {
      if (seen.has(c)) throw new InvalidValue(`${noun} ${c} is listed twice`);
      seen.add(c);
      listed.push(c);
    }
  }
  return listed;
}
