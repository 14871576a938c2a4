import { chromium, type Browser } from 'playwright-core';

/**
 * The system's Chromium (Debian's `chromium`), headless, with a fresh temporary
 * profile of its own (launch() makes one) and nothing that reaches the network.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
