// Regenerates the dashboard screenshots in docs/images/ (docs/operations.md, "Dashboard"):
// dashboard.png (1000×900) and dashboard-narrow.png (400 px wide, as on a phone).
//
//   node scripts/dashboard_screenshot.mjs            # from the repository root
//
// Offline and self-contained: it starts sluice (build/sluice, or $SLUICE_BINARY) on ephemeral
// ports with a small config written to a temp dir — the built-in mock provider `demo`, a mock
// `batch` that answers after 2.5 s (so it shows slow), and a provider `backup` pointing at a
// closed port (so it shows down, its circuit open); two agents with limits and budgets; the
// ledger in the temp dir; an admin_token — sends a handful of chat completions and one call of
// the Lua tool text.shout so spend, tokens and tools show, then opens the dashboard in headless
// chromium (/usr/bin/chromium, or $CHROMIUM_PATH; --no-sandbox, a temp profile), waits for the
// data and saves the two PNGs. Everything it starts it stops; the temp dir is removed.
//
// puppeteer-core comes from tests/e2e/node_modules (`npm ci` there, or scripts/setup.sh
// --tests); $SLUICE_E2E_NODE_MODULES points elsewhere (e.g. another worktree's).
// OUT_DIR=... writes the PNGs somewhere else (default docs/images).
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const nodeModules = process.env.SLUICE_E2E_NODE_MODULES || join(repoRoot, 'tests/e2e/node_modules');
const require = createRequire(join(dirname(nodeModules), 'noop.js')); // looks in ./node_modules
const puppeteer = require('puppeteer-core');
const { startSluice } = await import('../tests/e2e/helpers.mjs');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUT_DIR = resolve(process.env.OUT_DIR || join(repoRoot, 'docs/images'));
const ADMIN_TOKEN = 'adm-screenshot';
const KEYS = { research: 'sk-shot-research', support: 'sk-shot-support' };
const WAIT = { timeout: 20000, polling: 100 };

// A port nothing listens on: bind an ephemeral one and close it.
async function closedPort() {
  const srv = createServer();
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  const { port } = srv.address();
  await new Promise((ok) => srv.close(ok));
  return port;
}

const config = (deadPort, ledger) => `# written by scripts/dashboard_screenshot.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
admin_token: \${ADMIN_TOKEN}
workers: 2
providers:
  demo:
    type: mock
    mock: {mode: canned, reply: "The quarterly numbers look fine; churn is down two points and the new plan is selling."}
  batch:
    type: mock
    mock: {mode: echo, latency: 2500ms}
  backup:
    type: openai
    base_url: http://127.0.0.1:${deadPort}/v1
    api_key: sk-upstream-backup
    timeouts: {connect: 500ms, first_byte: 2s, idle: 2s, total: 5s}
    health_check: {interval: 1s, timeout: 500ms, unhealthy_after: 1}
    circuit_breaker: {consecutive_failures: 1, open_for: 5m}
models:
  fast:
    targets: [{provider: demo, model: mock-fast}]
  quality:
    targets: [{provider: demo, model: mock-quality}]
  overnight:
    targets: [{provider: batch, model: mock-fast}]
  spare:
    targets: [{provider: backup, model: gpt-4o-mini}]
agents:
  research:
    keys: ["\${RESEARCH_KEY}"]
    models: [fast, quality, overnight, spare]
    tools: [text.shout]
    limits: {rpm: 60, tpm: 20000, concurrent: 8}
    budget: {usd: 0.005, per: day}
  support:
    keys: ["\${SUPPORT_KEY}"]
    models: [fast]
    limits: {rpm: 30, concurrent: 4}
    budget: {usd: 0.00016, per: month}
filters:
  - auth: {modes: [api_key]}
  - rate_limit: {}
  - model_alias: {}
  - cost: {prices: {mock-fast: {input: 0.15, output: 0.60}, mock-quality: {input: 2.50, output: 10.00}}}
  - circuit_breaker: {}
tools:
  text.shout: {type: lua, file: ${JSON.stringify(join(repoRoot, 'plugins/lua/shout_tool.lua'))}, config: {suffix: "!"}}
state: {ledger: ${JSON.stringify(ledger)}, flush_interval: 20ms}
access_log: {path: ""}
`;

const PROMPT = 'Summarise the attached quarterly report in three bullet points, with the numbers that ' +
  'matter to the board, the risks the finance team flagged, and what changed since last quarter.';

async function post(url, key, body) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10000),
  });
  await res.arrayBuffer();
  return res.status;
}
const chat = (sluice, agent, model) =>
  post(`${sluice.baseURL}/chat/completions`, KEYS[agent], { model, max_tokens: model === 'fast' ? 40 : 200, messages: [{ role: 'user', content: PROMPT }] });

let sluice, browser, dir;
try {
  dir = mkdtempSync(join(tmpdir(), 'sluice-dashboard-shot-'));
  sluice = await startSluice(config(await closedPort(), join(dir, 'ledger.db')), {
    ADMIN_TOKEN,
    RESEARCH_KEY: KEYS.research,
    SUPPORT_KEY: KEYS.support,
  });

  // Traffic: spend on two models and two agents, one slow provider, one failing provider
  // (its circuit opens), one tool call.
  // (One at a time but the slow one, well inside the agents' concurrent and tpm limits.)
  const slow = chat(sluice, 'research', 'overnight');
  const statuses = [];
  for (const [agent, model, n] of [['research', 'quality', 6], ['research', 'fast', 9], ['support', 'fast', 7],
                                   ['research', 'spare', 1]]) {
    for (let i = 0; i < n; i++) statuses.push(await chat(sluice, agent, model));
  }
  statuses.push(await post(`${sluice.baseURL}/tools/text.shout`, KEYS.research, { text: 'ship it' }));
  statuses.push(await slow);
  console.log(`answers: ${statuses.join(' ')} (the 'spare' one fails: its provider is down)`);

  const page0 = await fetch(`${sluice.adminURL}/`);
  if (!/<title>sluice dashboard<\/title>/.test(await page0.text())) {
    throw new Error(`${sluice.adminURL}/ is not the dashboard (HTTP ${page0.status}): is ${process.env.SLUICE_BINARY || 'build/sluice'} older than it?`);
  }

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: join(dir, 'chromium'),
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--hide-scrollbars'],
  });
  const page = await browser.newPage();
  page.on('console', (m) => m.type() === 'error' && console.error(`page: ${m.text()}`));
  page.on('pageerror', (err) => console.error(`page: ${err.message}`));
  // The token as the login form would keep it (this tab's sessionStorage), before the page runs.
  await page.evaluateOnNewDocument((t) => {
    if (location.protocol === 'http:') sessionStorage.setItem('sluice-admin-token', t);
  }, ADMIN_TOKEN);
  mkdirSync(OUT_DIR, { recursive: true });

  for (const [file, width, height, fullPage] of [
    ['dashboard.png', 1000, 900, false],
    ['dashboard-narrow.png', 400, 900, true],
  ]) {
    await page.setViewport({ width, height });
    await page.goto(`${sluice.adminURL}/?refresh=500`);
    await page.waitForSelector('#dashboard:not([hidden])', WAIT);
    await page.waitForSelector('tr[data-provider="backup"] .health .down', WAIT);
    await page.waitForSelector('tr[data-provider="backup"] .circuit .open', WAIT);
    await page.waitForSelector('tr[data-provider="batch"] .health .slow', WAIT);
    await page.waitForSelector('tr[data-tool="text.shout"]', WAIT);
    await page.waitForSelector('#chart-tokens-agent svg', WAIT);
    const path = join(OUT_DIR, file);
    await page.screenshot({ path, fullPage });
    console.log(`${path}: ${statSync(path).size} bytes`);
  }
} finally {
  await browser?.close();
  await sluice?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
