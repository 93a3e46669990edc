/** The page's element lookup and error text, shared by the demo's modules. */
import { WebgradError } from '../../src/index';

/** The element with this id; index.html must have it. */
export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element as T;
};

/** An error as the page shows it: webgrad's errors by name and message, anything else by its message. */
export const messageOf = (error: unknown) => (error instanceof WebgradError ? `${error.name}: ${error.message}` : String((error as Error)?.message ?? error));
