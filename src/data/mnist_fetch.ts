/** Browser MNIST loader: fetches the four IDX files from a URL prefix. */
import { DataFormatError } from '../errors';
import { assembleMnist, type Mnist, MNIST_FILE_LIST } from './mnist';

/**
 * `baseUrl` is the folder URL, absolute or relative to the page, with or without a trailing slash.
 * The files must be served uncompressed or with a Content-Encoding the browser undoes itself.
 */
export function fetchMnist(baseUrl: string): Promise<Mnist> {
  const prefix = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  return assembleMnist(async (fileName) => {
    const location = prefix + fileName;
    let response: Response;
    try {
      response = await fetch(location);
    } catch (error) {
      throw new DataFormatError(`${location}: fetch failed (${String(error)}); expected ${MNIST_FILE_LIST} there`);
    }
    if (!response.ok) {
      throw new DataFormatError(
        `${location}: HTTP ${response.status} ${response.statusText}; ` +
          `the MNIST folder must serve the four uncompressed files ${MNIST_FILE_LIST}`,
      );
    }
    return { bytes: new Uint8Array(await response.arrayBuffer()), location };
  });
}
