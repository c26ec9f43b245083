// Node driver of avedge's browser end-to-end tests:
//
//   node driver.mjs <pageURL> <scenario>
//
// launches Debian's headless Chromium (/usr/bin/chromium, or $CHROMIUM)
// through playwright-core, opens pageURL, runs window.avedgeRun(scenario)
// and prints its result as one JSON line on stdout. Extra Chromium switches
// may be given, one per line, in $AVEDGE_CHROMIUM_ARGS; the profile goes to
// $AVEDGE_USER_DATA_DIR (a fresh directory the caller removes). Browser
// console lines go to stderr. The exit status is 0 when a result was
// printed (whether or not the scenario succeeded), 1 otherwise.
import { chromium } from 'playwright-core';

const [pageURL, scenario] = process.argv.slice(2);
if (!pageURL || !scenario) {
  console.error('usage: node driver.mjs <pageURL> <scenario>');
  process.exit(2);
}
const userDataDir = process.env.AVEDGE_USER_DATA_DIR;
if (!userDataDir) {
  console.error('driver: AVEDGE_USER_DATA_DIR must name an empty directory');
  process.exit(2);
}
const extra = (process.env.AVEDGE_CHROMIUM_ARGS || '').split('\n').filter((s) => s !== '');

// Flags from the machine notes: headless as root, and no connection to
// anything but the page and the relay (no background networking, component
// updates, sync or QUIC). Found with Chromium 156 (strace of the test run):
// - even so, Chromium looked up accounts.google.com and
//   update.googleapis.com through the system resolver; --host-resolver-rules
//   makes every name but localhost unresolvable, so that nothing leaves the
//   host. (WebRTC still connect()s a UDP socket to 8.8.8.8:53 to learn its
//   default local address; that sends no packet.)
// - WebRTC ignores the loopback interface: on a host whose only interface is
//   lo (a CI sandbox, a network namespace) it gathers no candidate at all
//   and ICE gathering never completes. --allow-loopback-in-peer-connection
//   lets it use lo. Relay candidates on 127.0.0.1 and a TURN server on
//   127.0.0.1 need no switch.
// The fake devices stand in for a camera and a microphone and answer the
// permission prompt.
const args = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--allow-loopback-in-peer-connection',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  ...extra,
];

let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args,
    timeout: 20000,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => console.error('console.' + m.type() + ': ' + m.text()));
  page.on('pageerror', (e) => console.error('pageerror: ' + e.message));
  await page.goto(pageURL, { timeout: 10000 });
  // The page bounds its own waits; the caller's timeout is the backstop.
  const result = await page.evaluate((s) => window.avedgeRun(s), scenario);
  process.stdout.write(JSON.stringify(result) + '\n');
} catch (e) {
  console.error('driver: ' + (e && e.stack ? e.stack : e));
  process.exitCode = 1;
} finally {
  if (context) {
    await context.close().catch(() => {});
  }
}
