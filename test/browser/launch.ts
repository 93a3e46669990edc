/**
 * Headless browsers with WebGPU for the in-browser tests and the benchmark: Chromium (Dawn, WGSL compiled
 * by Tint) and Firefox ESR (wgpu, WGSL compiled by naga). Two WGSL front ends, so a shader construct only
 * one of them accepts fails a test here instead of a user's browser.
 *
 * On a machine without a GPU both run WebGPU on SwiftShader (a CPU Vulkan): Chromium by flag, Firefox by
 * pointing the Vulkan loader at Chromium's SwiftShader ICD. Nothing here reaches the internet: each browser
 * starts in a fresh, throw-away profile with its background networking off.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser, type LaunchOptions } from 'puppeteer-core';

export type BrowserName = 'chromium' | 'firefox';

/** Every browser the in-browser tests run in. */
export const browsers: readonly BrowserName[] = ['chromium', 'firefox'];

/** Chromium's SwiftShader Vulkan driver (Debian's `chromium` package); Firefox's wgpu uses it too when there is no GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The flags that give headless Chromium WebGPU on SwiftShader and keep it off the network. */
export const CHROME_ARGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Firefox ESR ships WebGPU behind a pref on Linux, and blocks software adapters; these turn both on.
 * The rest keep a fresh profile quiet: no updates, telemetry, remote settings or captive-portal probes.
 */
export const FIREFOX_PREFS: Record<string, unknown> = {
  'dom.webgpu.enabled': true,
  'gfx.webgpu.ignore-blocklist': true,
  'app.update.enabled': false,
  'browser.shell.checkDefaultBrowser': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
};

export interface LaunchedBrowser {
  name: BrowserName;
  browser: Browser;
  /** e.g. "HeadlessChrome/156.0.8078.79" or "firefox/153.8.0". */
  version: string;
  close(): Promise<void>;
}

/** Where each browser is: CHROME_PATH / FIREFOX_PATH override Debian's locations. */
export function browserPath(name: BrowserName): string {
  return name === 'chromium' ? (process.env.CHROME_PATH ?? '/usr/bin/chromium') : (process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr');
}

const INSTALL_HINT: Record<BrowserName, string> = {
  chromium: 'apt-get install -y chromium, or set CHROME_PATH',
  firefox: 'apt-get install -y firefox-esr, or set FIREFOX_PATH',
};

/**
 * The Vulkan driver Firefox should use: VK_ICD_FILENAMES as given, else SwiftShader when it is installed
 * and WEBGRAD_BROWSER_GPU is unset (set it to run on the machine's own GPU driver).
 */
function firefoxEnv(): Record<string, string | undefined> {
  const env = { ...process.env };
  if (!env.VK_ICD_FILENAMES && !env.WEBGRAD_BROWSER_GPU && existsSync(SWIFTSHADER_ICD)) env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return env;
}

/**
 * Launches a headless browser with WebGPU in a fresh profile. `extraArgs` are appended to the command line
 * (Chromium flags; Firefox takes few). protocolTimeout 0: the benchmark's page.evaluate calls run for minutes.
 */
export async function launchBrowser(name: BrowserName = 'chromium', extraArgs: string[] = []): Promise<LaunchedBrowser> {
  const executablePath = browserPath(name);
  if (!existsSync(executablePath)) {
    throw new Error(`${name} not found at ${executablePath}. Install it (${INSTALL_HINT[name]}); scripts/setup.sh does both.`);
  }
  const userDataDir = mkdtempSync(path.join(tmpdir(), `webgrad-${name}-`));
  const options: LaunchOptions =
    name === 'chromium'
      ? // Puppeteer's defaults plus ours (ours last); it passes userDataDir as --user-data-dir.
        { executablePath, headless: true, userDataDir, args: [...CHROME_ARGS, ...extraArgs], protocolTimeout: 0 }
      : {
          browser: 'firefox',
          executablePath,
          headless: true,
          userDataDir,
          args: extraArgs,
          extraPrefsFirefox: FIREFOX_PREFS,
          env: firefoxEnv(),
          protocolTimeout: 0,
        };
  let browser: Browser;
  try {
    browser = await puppeteer.launch(options);
  } catch (error) {
    rmSync(userDataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    name,
    browser,
    version: await browser.version(),
    async close() {
      await browser.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
