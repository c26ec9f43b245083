// Firefox driver of avedge's browser end-to-end tests:
//
//   node firefox.mjs <scenario> <pageURL>...
//
// launches Debian's headless Firefox ESR (/usr/bin/firefox-esr, or
// $FIREFOX) through puppeteer-core over WebDriver BiDi, with the profile
// directory $AVEDGE_PROFILE_DIR (prepared by the caller: it may already hold
// a certificate database), and for each pageURL in turn opens it in a new
// tab, runs window.avedgeRun(scenario) and prints its result as one JSON
// line on stdout. One browser serves every page: Firefox takes far longer
// to start than a page takes to run. Browser console lines go to stderr.
// The exit status is 0 when a result was printed for every page (whether or
// not the scenarios succeeded), 1 otherwise.
import puppeteer from 'puppeteer-core';

const [scenario, ...pages] = process.argv.slice(2);
if (!scenario || pages.length === 0) {
  console.error('usage: node firefox.mjs <scenario> <pageURL>...');
  process.exit(2);
}
const profileDir = process.env.AVEDGE_PROFILE_DIR;
if (!profileDir) {
  console.error('firefox driver: AVEDGE_PROFILE_DIR must name a profile directory');
  process.exit(2);
}

// Preferences puppeteer writes into the profile's user.js, over its own
// defaults. Found with Firefox ESR 153 (about:webrtc's logs, MOZ_LOG=nicer:5,
// and in a network namespace whose only interface is lo):
// - Firefox gathers no candidate on lo unless
//   media.peerconnection.ice.loopback is set.
// - A page with neither a capture running nor a camera or microphone
//   permission gathers only on the interface of the default route (it
//   connects a UDP socket to 8.8.8.8 to find it): on a host whose only
//   interface is lo there is none, gathering fails and ICE never starts.
//   permissions.default.microphone = 1 (allow) grants the permission to
//   every page, so Firefox gathers on every interface, lo too; elsewhere
//   each connection then gathers a relay candidate per interface.
const prefs = {
  'media.peerconnection.ice.loopback': true,
  'permissions.default.microphone': 1,
};

// Nothing may phone home: this machine's network is closed, and what tries
// fails late. The remote agent applies its recommended preferences (no
// updates, telemetry, captive portal or connectivity checks, safe browsing,
// add-on updates; services.settings.server pointed at a dummy), but a
// release build ignores that remote settings server unless
// MOZ_REMOTE_SETTINGS_DEVTOOLS is set: without it Firefox looked up
// firefox.settings.services.mozilla.com some 30 times a run. With it, an
// strace of the test shows no name looked up and no connection but to
// loopback.
const env = { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' };

let browser;
try {
  browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
    env,
    userDataDir: profileDir,
    extraPrefsFirefox: prefs,
    timeout: 40000,
    protocolTimeout: 40000,
  });
  for (const url of pages) {
    const page = await browser.newPage();
    page.on('console', (m) => console.error('console.' + m.type() + ': ' + m.text()));
    page.on('pageerror', (e) => console.error('pageerror: ' + e.message));
    await page.goto(url, { timeout: 10000 });
    // The page bounds its own waits; the caller's timeout is the backstop.
    const result = await page.evaluate((s) => window.avedgeRun(s), scenario);
    process.stdout.write(JSON.stringify(result) + '\n');
    await page.close();
  }
} catch (e) {
  console.error('firefox driver: ' + (e && e.stack ? e.stack : e));
  process.exitCode = 1;
} finally {
  if (browser) {
    await browser.close().catch(() => {});
  }
}
