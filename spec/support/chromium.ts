// Debian's Chromium (/usr/bin/chromium) driven headless through playwright-core, nothing downloaded:
// a fresh profile per launch, removed on close. --enable-unsafe-webgpu lets headless Chromium offer
// its SwiftShader (software Vulkan) WebGPU adapter.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const chromiumAvailable = existsSync(CHROMIUM);
const FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** console errors and uncaught exceptions of the page, in order */
  readonly errors: string[];
  close(): Promise<void>;
}

/** Starts Chromium with a fresh profile (reaching it as --user-data-dir through launchPersistentContext). */
export const launchChromium = async (): Promise<Browser> => {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'hrm-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 900 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
};
