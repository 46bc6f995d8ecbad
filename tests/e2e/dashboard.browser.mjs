// The admin dashboard (GET / on the admin port) in a real browser: Debian's chromium driven by
// puppeteer-core. sluice runs with two providers (each in front of its own mock), two agents
// with limits and budgets, a ledger and an admin_token. The page must ask for the token, show
// the running config, and follow it live, without a reload: a provider whose mock is stopped
// turns down with its circuit open, a request's spend appears, a refused reload shows its error
// and a good one the new generation, a refused token brings the prompt back — all at 400 px wide
// and without a console error (but the 401 that the refused token is meant to cause).
//
// Not named *.test.mjs: e2e.sdk runs every such file, and this one needs chromium, so ctest
// runs it on its own as e2e.dashboard (tests/CMakeLists.txt).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import puppeteer from 'puppeteer-core';

import { startMockProvider, startSluice } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ADMIN_TOKEN = 'adm-dashboard-3f9a';
const SOFIA_KEY = 'sk-e2e-dashboard-sofia';
const MARCO_KEY = 'sk-e2e-dashboard-marco';
const REFRESH_MS = 250; // the page's poll interval (?refresh=), short to keep the test fast
const WAIT = { timeout: 15000, polling: 100 };

const config = (alphaURL, betaURL, ledger) => `# written by tests/e2e/dashboard.browser.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
admin_token: \${ADMIN_TOKEN}
workers: 1
providers:
  alpha:
    type: openai
    base_url: ${alphaURL}
    api_key: sk-upstream-alpha
    timeouts: {connect: 1s, first_byte: 2s, idle: 2s, total: 5s}
    health_check: {interval: 200ms, timeout: 500ms, unhealthy_after: 1, healthy_after: 1}
    circuit_breaker: {consecutive_failures: 1, open_for: 5m}
  beta:
    type: openai
    base_url: ${betaURL}
    api_key: sk-upstream-beta
    timeouts: {connect: 1s, first_byte: 2s, idle: 2s, total: 5s}
models:
  fast:
    targets: [{provider: alpha, model: gpt-4o-mini}]
  steady:
    targets: [{provider: beta, model: gpt-4o-mini}]
agents:
  sofia:
    keys: ["\${SOFIA_KEY}"]
    limits: {rpm: 60, tpm: 200000, concurrent: 4}
    budget: {usd: 5, per: day}
  marco:
    keys: ["\${MARCO_KEY}"]
    limits: {rpm: 30}
    budget: {usd: 1, per: month}
filters:
  - auth: {modes: [api_key]}
  - rate_limit: {}
  - model_alias: {}
  - circuit_breaker: {}
  - cost:
      prices:
        gpt-4o-mini: {input: 3, output: 15}
state: {ledger: ${JSON.stringify(ledger)}, flush_interval: 20ms}
access_log: {path: ""}
`;

// One chat completion as an agent; resolves with the HTTP status (failures are expected).
async function ask(sluice, key, model) {
  const res = await fetch(`${sluice.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello dashboard' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

const text = (page, selector) => page.$eval(selector, (n) => n.textContent.trim());

describe('admin dashboard in chromium', () => {
  let alpha, beta, sluice, browser, page, dir;
  const consoleErrors = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no chromium at ${CHROMIUM}: run scripts/setup.sh --tests (or set CHROMIUM_PATH)`);
    dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-dashboard-'));
    alpha = await startMockProvider();
    beta = await startMockProvider();
    sluice = await startSluice(config(alpha.baseURL, beta.baseURL, join(dir, 'ledger.db')), {
      ADMIN_TOKEN,
      SOFIA_KEY,
      MARCO_KEY,
    });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: join(dir, 'chromium'),
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
    });
    page = await browser.newPage();
    await page.setViewport({ width: 400, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${m.text()} ${JSON.stringify(m.location())}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
  });

  after(async () => {
    await browser?.close();
    await sluice?.stop();
    await alpha?.stop();
    await beta?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('asks for the token, then shows the running config', { timeout: 30000 }, async () => {
    const res = await page.goto(`${sluice.adminURL}/?refresh=${REFRESH_MS}`);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-security-policy'], /default-src 'none'/);
    await page.waitForSelector('#login:not([hidden])', WAIT);
    assert.equal(await page.$eval('#dashboard', (n) => n.hidden), true, 'data shown before the token');

    await page.type('#token', ADMIN_TOKEN);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#dashboard:not([hidden])', WAIT);
    assert.equal(await page.$eval('#login', (n) => n.hidden), true);
    // Kept for the tab, not put in the URL.
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sluice-admin-token')), ADMIN_TOKEN);
    assert.ok(!page.url().includes(ADMIN_TOKEN));

    await page.waitForSelector('tr[data-provider="alpha"] .health .ok', WAIT);
    await page.waitForSelector('tr[data-provider="beta"]', WAIT);
    assert.equal(await text(page, 'tr[data-provider="alpha"] .circuit'), 'closed');
    assert.equal(await text(page, '#generation'), '1');
    assert.match(await text(page, '[data-agent="sofia"] [data-limit="rpm"]'), /0 \/ 60/);
    assert.match(await text(page, '[data-agent="sofia"] [data-limit="concurrent"]'), /0 \/ 4/);
    assert.match(await text(page, '[data-agent="sofia"] .budget-spent'), /^\$0 \/ \$5\.00 per day$/);
    assert.match(await text(page, '[data-agent="marco"] .budget-spent'), /^\$0 \/ \$1\.00 per month$/);
    // 400 px wide: nothing sticks out sideways (wide tables scroll inside their section).
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 400, `the page is ${overflow} px wide at a 400 px viewport`);
  });

  test('a request moves the spend, live', { timeout: 30000 }, async () => {
    const before = await text(page, '#spend-total');
    assert.equal(await ask(sluice, SOFIA_KEY, 'steady'), 200);
    await page.waitForFunction(
      () => /\b1 requests\b/.test(document.getElementById('spend-total').textContent),
      WAIT,
    );
    assert.notEqual(await text(page, '#spend-total'), before);
    await page.waitForSelector('#chart-cost-agent svg', WAIT);
    // Another window: the page asks /usage again for it.
    await page.click('.windows button[data-since="1h"]');
    await page.waitForFunction(() => /in 1h$/.test(document.getElementById('spend-total').textContent), WAIT);
    assert.match(await text(page, '#spend-total'), /\b1 requests\b/);
    assert.equal(await page.$eval('.windows button[data-since="1h"]', (b) => b.getAttribute('aria-pressed')), 'true');
    await page.waitForFunction(
      () => !/^\$0 \//.test(document.querySelector('[data-agent="sofia"] .budget-spent').textContent),
      WAIT,
    );
  });

  test('a provider that fails turns down with its circuit open, live', { timeout: 30000 }, async () => {
    const loads = await page.evaluate(() => performance.getEntriesByType('navigation').length);
    await alpha.stop();
    // The probe sees it gone (health); a request through it fails and opens the circuit.
    assert.notEqual(await ask(sluice, SOFIA_KEY, 'fast'), 200);
    await page.waitForSelector('tr[data-provider="alpha"] .health .down', WAIT);
    await page.waitForSelector('tr[data-provider="alpha"] .circuit .open', WAIT);
    assert.equal(await text(page, 'tr[data-provider="beta"] .circuit'), 'closed');
    assert.equal(await page.evaluate(() => performance.getEntriesByType('navigation').length), loads);
  });

  test('a refused reload shows its error; a good one the new generation', { timeout: 30000 }, async () => {
    const reload = () =>
      fetch(`${sluice.adminURL}/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const good = readFileSync(sluice.configPath, 'utf8');
    writeFileSync(sluice.configPath, `${good}no_such_setting: 1\n`);
    assert.equal((await reload()).status, 400);
    await page.waitForSelector('#reload-error', WAIT);
    assert.match(await text(page, '#reload-error'), /no_such_setting/);
    assert.equal(await text(page, '#generation'), '1');

    writeFileSync(sluice.configPath, good);
    assert.equal((await reload()).status, 200);
    await page.waitForFunction(() => document.getElementById('generation').textContent === '2', WAIT);
    assert.equal(await page.$('#reload-error'), null);
    assert.match(await text(page, '#last-reload'), /reloaded/);
  });

  test('a refused token brings the prompt back', { timeout: 30000 }, async () => {
    const before = consoleErrors.length;
    await page.evaluate(() => sessionStorage.setItem('sluice-admin-token', 'not-the-token'));
    await page.waitForSelector('#login:not([hidden])', WAIT);
    assert.equal(await page.$eval('#dashboard', (n) => n.hidden), true);
    assert.match(await text(page, '#problem'), /refused/);
    // Chromium logs the 401 it was sent; that one is expected.
    const expected = consoleErrors.splice(before).filter((e) => !/\b401\b/.test(e));
    assert.deepEqual(expected, []);

    await page.type('#token', ADMIN_TOKEN);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#dashboard:not([hidden])', WAIT);
    await page.waitForSelector('tr[data-provider="beta"]', WAIT);
  });

  test('no console errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
