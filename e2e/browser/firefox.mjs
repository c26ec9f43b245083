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
// defaults and the remote agent's recommended preferences (which already
// turn off updates, telemetry, captive portal detection and the like).
const prefs = {
  // WebRTC on loopback. Without media.peerconnection.ice.loopback Firefox
  // gathers no candidate on lo, and on a host whose only interface is lo
  // (a CI sandbox, a network namespace) ICE never gets a relay candidate.
  'media.peerconnection.ice.loopback': true,
  // Without a getUserMedia permission, Firefox gathers only on the
  // interface of the default route; on lo alone there is none.
  'media.peerconnection.ice.default_address_only': false,
  'network.dns.disableIPv6': true,
  // Nothing may phone home: this machine's network is closed, and anything
  // that tries just fails, late. The remote agent's recommended
  // preferences cover most of it; these close the rest that was seen in
  // the test runs (the Nimbus experiment loader and the remote settings
  // it syncs) or that a later Firefox might turn on.
  'app.update.enabled': false,
  'app.update.auto': false,
  'app.normandy.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'nimbus.rsexperimentloader.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/v1',
  'browser.shell.checkDefaultBrowser': false,
  'browser.aboutwelcome.enabled': false,
  'browser.discovery.enabled': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.newtabpage.activity-stream.feeds.snippets': false,
  'browser.ping-centre.telemetry': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'browser.safebrowsing.provider.mozilla.updateURL': '',
  'browser.search.geoip.url': '',
  'browser.backup.enabled': false,
  'browser.backup.scheduled.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.usage.uploadEnabled': false,
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': '',
  'extensions.getAddons.cache.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'network.dns.disablePrefetch': true,
  'network.predictor.enabled': false,
  'network.prefetch-next': false,
  'network.trr.mode': 5,
  'media.gmp-manager.updateEnabled': false,
  'media.gmp-gmpopenh264.enabled': false,
  'security.OCSP.enabled': 0,
  'security.remote_settings.crlite_filters.enabled': false,
  'security.remote_settings.intermediates.enabled': false,
};

let browser;
try {
  browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
    headless: true,
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
