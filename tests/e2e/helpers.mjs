// Process helpers for the end-to-end tests: start the mock provider and sluice on ephemeral
// ports, write their configs, and stop them. The binaries come from the environment ctest sets
// (SLUICE_BINARY, SLUICE_MOCK_PROVIDER), else from build/ so `npm test` works after a build.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const sluiceBinary = process.env.SLUICE_BINARY || join(repoRoot, 'build/sluice');
export const mockProviderBinary =
  process.env.SLUICE_MOCK_PROVIDER || join(repoRoot, 'build/tests/sluice_mock_provider');

const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 10000;

// A child process whose output is kept, line by line, so a test can wait for a line and a
// failure can show what the process said.
class Child {
  constructor(name, file, args, env) {
    this.name = name;
    this.lines = { stdout: [], stderr: [] };
    this.waiters = [];
    this.exit = null; // {code, signal} once exited
    this.proc = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolveExit) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const w of this.waiters) w.check();
        resolveExit(this.exit);
      });
    });
    this.proc.on('error', (err) => {
      this.spawnError = err;
      for (const w of this.waiters) w.check();
    });
    for (const stream of ['stdout', 'stderr']) {
      let partial = '';
      this.proc[stream].setEncoding('utf8');
      this.proc[stream].on('data', (text) => {
        const parts = (partial + text).split('\n');
        partial = parts.pop();
        this.lines[stream].push(...parts);
        for (const w of this.waiters) w.check();
      });
    }
  }

  // The last lines of both streams, for failure messages.
  tail(n = 30) {
    const show = (s) => this.lines[s].slice(-n).map((l) => `  ${s}| ${l}`).join('\n');
    return `${show('stderr')}\n${show('stdout')}`;
  }

  // Resolves with the first line (of `streams`) for which `match(line)` is truthy, with its
  // result; rejects if the process exits first or after `timeoutMs`.
  waitForLine(match, { streams = ['stdout', 'stderr'], timeoutMs = START_TIMEOUT_MS, what = 'line' } = {}) {
    return new Promise((resolveWait, rejectWait) => {
      const waiter = {
        check: () => {
          for (const s of streams) {
            for (const line of this.lines[s]) {
              const m = match(line);
              if (m) return done(null, m);
            }
          }
          if (this.spawnError) return done(new Error(`${this.name}: cannot start: ${this.spawnError.message}`));
          if (this.exit) {
            return done(
              new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before printing ${what}:\n${this.tail()}`),
            );
          }
        },
      };
      const timer = setTimeout(
        () => done(new Error(`${this.name}: no ${what} after ${timeoutMs} ms:\n${this.tail()}`)),
        timeoutMs,
      );
      const done = (err, value) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        if (err) rejectWait(err);
        else resolveWait(value);
      };
      this.waiters.push(waiter);
      waiter.check();
    });
  }

  // SIGTERM, then SIGKILL if it has not exited in time. Resolves with {code, signal}.
  async stop(timeoutMs = STOP_TIMEOUT_MS) {
    if (this.exit || this.spawnError) return this.exit;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }
}

// "listening on 127.0.0.1:<port>" (not preceded by "admin ") → port. Port 0 is not an answer:
// the line must name the port the kernel picked.
function apiPortOf(line) {
  const m = /(?<!admin )listening on 127\.0\.0\.1:(\d+)/.exec(line);
  return m && Number(m[1]) > 0 ? Number(m[1]) : null;
}
function adminPortOf(line) {
  const m = /admin listening on 127\.0\.0\.1:(\d+)/.exec(line);
  return m && Number(m[1]) > 0 ? Number(m[1]) : null;
}

// Starts tests/support's mock provider on an ephemeral port. `behavior` is its default
// behaviour for every request (e.g. 'strict': requests checked as the real APIs check them).
export async function startMockProvider({ behavior } = {}) {
  const args = ['--port', '0', ...(behavior ? ['--behavior', behavior] : [])];
  const child = new Child('sluice_mock_provider', mockProviderBinary, args, {});
  const port = await child.waitForLine(apiPortOf, { what: '"listening on 127.0.0.1:<port>"' });
  const origin = `http://127.0.0.1:${port}`;
  return {
    child,
    port,
    baseURL: `${origin}/v1`,
    // Queues a behaviour ("status:500", "reset", "cut", "hang", "slow:200", ...) for the next
    // `count` requests the mock receives (only those whose path starts with `path`, if given).
    async control(behavior, count = 1, path = undefined) {
      const res = await fetch(`${origin}/__control`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ behavior, count, ...(path ? { path } : {}) }),
      });
      if (!res.ok) throw new Error(`mock /__control ${behavior}: HTTP ${res.status} ${await res.text()}`);
    },
    // The last requests the mock received (method, path, headers, body), oldest first.
    async requests() {
      const res = await fetch(`${origin}/__requests`);
      if (!res.ok) throw new Error(`mock /__requests: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    },
    // The last request the mock received, its body parsed (`json`; null when not JSON).
    async lastRequest() {
      const seen = (await this.requests()).at(-1);
      if (!seen) throw new Error('the mock received no request');
      let json = null;
      try {
        json = JSON.parse(seen.body);
      } catch {}
      return { ...seen, json };
    },
    async reset() {
      const res = await fetch(`${origin}/__reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`mock /__reset: HTTP ${res.status}`);
    },
    stop: () => child.stop(),
  };
}

// Writes `yaml` to a fresh temp directory and starts `sluice run -c` on it. Resolves once both
// the agent API and the admin API are listening.
export async function startSluice(yaml, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-e2e-'));
  const configPath = join(dir, 'sluice.yaml');
  writeFileSync(configPath, yaml);
  const child = new Child('sluice', sluiceBinary, ['run', '-c', configPath], env);
  try {
    const port = await child.waitForLine(apiPortOf, {
      streams: ['stderr'],
      what: '"listening on 127.0.0.1:<port>"',
    });
    const adminPort = await child.waitForLine(adminPortOf, {
      streams: ['stderr'],
      what: '"admin listening on 127.0.0.1:<port>"',
    });
    return {
      child,
      dir,
      configPath,
      port,
      adminPort,
      baseURL: `http://127.0.0.1:${port}/v1`,
      adminURL: `http://127.0.0.1:${adminPort}`,
      async stop() {
        const result = await child.stop();
        rmSync(dir, { recursive: true, force: true });
        return result;
      },
    };
  } catch (err) {
    await child.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// `sluice hash-key KEY`, as an operator would run it to fill agents.*.keys.
export function hashKey(key) {
  return execFileSync(sluiceBinary, ['hash-key', key], { encoding: 'utf8' }).trim();
}

// Config for sluice in front of the external mock provider (an `openai`-type provider).
// Agent `e2e` authenticates with a plain key from ${E2E_KEY}; agent `hashed` with a sha256 digest.
export function configForMockProvider({ mockBaseURL, hashedKey }) {
  return `# written by tests/e2e/helpers.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  upstream:
    type: openai
    base_url: ${mockBaseURL}
    api_key: sk-upstream-e2e-secret
    timeouts: {connect: 2s, first_byte: 2s, idle: 2s, total: 20s}
models:
  fast:
    targets:
      - {provider: upstream, model: gpt-4o-mini}
  embed:
    targets:
      - {provider: upstream, model: text-embedding-3-small}
agents:
  e2e:
    keys: ["\${E2E_KEY}"]
  hashed:
    keys: ["${hashedKey}"]
    models: [fast]
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
state:
  ledger: ""
access_log: {path: stdout, format: json}
`;
}

// Config for sluice alone, answering through the built-in offline `mock` provider type.
export function configForBuiltinMock() {
  return `# written by tests/e2e/helpers.mjs
listen: 127.0.0.1:0
admin: 127.0.0.1:0
workers: 1
providers:
  demo:
    type: mock
models:
  fast:
    targets:
      - {provider: demo, model: mock-small}
  embed:
    targets:
      - {provider: demo, model: mock-embedding}
agents:
  e2e:
    keys: ["\${E2E_KEY}"]
filters:
  - auth: {modes: [api_key]}
  - model_alias: {}
state:
  ledger: ""
access_log: {path: stdout, format: json}
`;
}
