/**
 * The dashboard at `/` in a real headless Chromium (Debian's, driven by playwright-core; no browser
 * download) against a real master, agents and storage servers: it loads without a console error
 * at desktop and phone sizes, follows the grid over SSE (a kill -9'd node shows crashed, then
 * running again, with no reload), spawns and stops from the page through its confirm dialog, shows
 * the API's refusal, and plans a changed spec with the very text `sutra-grid plan` prints, then
 * applies it. Screenshots are kept in a directory the test prints (not removed at teardown).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, isAlive, startMaster, trackPid } from '../helpers/processes.js';
import { HttpGrid, gridSpec } from './support/http-grid.js';

/** Conditions on a loaded 2-core host: generous, and each wait says what it waited for. */
const WAIT_MS = 60_000;
/** A test waits on a few such conditions. */
const TEST_MS = 240_000;

const AGENTS = [{ id: 'a1' }, { id: 'a2' }];
const SPEC = gridSpec(AGENTS, [{ name: 'kv', nodes: 2 }]);

let grid: HttpGrid;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];
const shots = mkdtempSync(join(process.env['SUTRA_GRID_ARTIFACTS'] ?? tmpdir(), 'sutra-grid-dashboard-'));

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

interface ApiNode {
  nodeId: string;
  status: string;
  pid: number;
  restarts: number;
}

/**
 * Confirms the open dialog and waits until it closes; a refusal shown in it instead fails the
 * test with the API's message.
 */
async function confirm(): Promise<void> {
  const dialog = page.locator('[role="dialog"]');
  await dialog.locator('[data-confirm]').click();
  const alert = dialog.locator('[role="alert"]');
  await Promise.race([dialog.waitFor({ state: 'detached' }), alert.waitFor()]);
  if (await alert.isVisible()) throw new Error(`the dialog shows a refusal: ${await alert.innerText()}`);
}

async function apiNode(id: string): Promise<ApiNode> {
  return (await grid.call<ApiNode>(`nodes/${id}`)).body;
}

beforeAll(async () => {
  console.log(`dashboard screenshots: ${shots}`);
  grid = new HttpGrid();
  await grid.startHttpMaster();
  await Promise.all(AGENTS.map((a) => grid.agent(a.id)));
  await eventually(async () => ((await grid.call<{ agents: unknown[] }>('agents')).body.agents.length === 2 ? true : undefined), WAIT_MS);
  const applied = await grid.postYaml('apply?expectedGeneration=0', stringify(SPEC));
  expect(applied.status, JSON.stringify(applied.body)).toBe(200);
  await eventually(async () => {
    const nodes = (await grid.call<{ nodes: ApiNode[] }>('nodes?cluster=kv')).body.nodes;
    for (const n of nodes) trackPid(n.pid);
    return nodes.filter((n) => n.status === 'running').length === 2 ? true : undefined;
  }, WAIT_MS);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(WAIT_MS);
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  const leaked = await grid.teardown();
  expect(leaked).toEqual([]);
});

describe('dashboard', () => {
  it('serves the page with a CSP and loads with no console error, at 1280x800 and on a phone', async () => {
    const res = await fetch(`${grid.http}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'/);
    const js = await fetch(`${grid.http}/app.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${grid.http}/app.css`)).headers.get('content-type')).toMatch(/^text\/css/);

    await page.goto(`${grid.http}/`);
    await page.locator('[data-agent="a1"][data-health="healthy"]').waitFor();
    await page.locator('[data-agent="a2"][data-health="healthy"]').waitFor();
    await page.locator('[data-node="kv-0"][data-status="running"]').waitFor();
    await page.locator('[data-node="kv-1"][data-status="running"]').waitFor();
    await page.locator('[data-stream="live"]').waitFor();
    // Capacity: the node the agent runs of the 4 it takes.
    await page.locator('[data-agent="a1"]', { hasText: '1 / 4' }).waitFor();
    // The topology puts each node on its agent.
    const onA1 = await page.locator('[data-topo-agent="a1"] [data-topo-node]').count();
    const onA2 = await page.locator('[data-topo-agent="a2"] [data-topo-node]').count();
    expect(onA1 + onA2).toBe(2);
    await shot('01-desktop');

    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('[data-node="kv-0"]').waitFor();
    // Narrow: nothing wider than the screen but the tables, which scroll in their own boxes.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('02-phone');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(consoleErrors).toEqual([]);
  }, TEST_MS);

  it('shows a kill -9 as a crash, then the node running again, without a reload', async () => {
    // A mark in the page's globals: a reload would lose it.
    await page.evaluate('window.notReloaded = true');
    const before = await apiNode('kv-0');
    expect(before.status).toBe('running');
    process.kill(before.pid, 'SIGKILL');

    const row = page.locator('[data-node="kv-0"]');
    await row.locator('[data-field="crashed"]').waitFor();
    await page.locator('[data-event-type="NodeCrashed"][data-event-node="kv-0"]').waitFor();
    await page.locator('[data-node="kv-0"][data-status="running"] [data-field="restarts"]', { hasText: /^1$/ }).waitFor();
    const after = await eventually(async () => {
      const n = await apiNode('kv-0');
      return n.status === 'running' && n.pid !== before.pid ? n : undefined;
    }, WAIT_MS);
    trackPid(after.pid);
    await row.locator('[data-field="pid"]', { hasText: String(after.pid) }).waitFor();
    expect(await page.evaluate<boolean>('window.notReloaded === true')).toBe(true);
    await shot('03-crashed-and-back');
    expect(consoleErrors).toEqual([]);
  }, TEST_MS);

  it('spawns and stops a node from the page, each through its confirm dialog', async () => {
    await page.locator('form.spawn select[name="agent"]').selectOption('a2');
    await page.locator('form.spawn input[name="nodeId"]').fill('web-1');
    await page.locator('form.spawn button[type="submit"]').click();
    await page.locator('[role="dialog"]').waitFor();
    await shot('04-spawn-dialog');
    await confirm();
    await page.locator('[role="status"]', { hasText: 'spawned web-1 on a2' }).waitFor();
    await page.locator('[data-node="web-1"][data-status="running"]').waitFor();
    const spawned = await apiNode('web-1');
    trackPid(spawned.pid);
    expect(spawned).toMatchObject({ status: 'running' });

    await page.locator('[data-node="web-1"] button', { hasText: 'Stop' }).click();
    await confirm();
    // The row shows it stopped (or is gone, once the agent forgot the node).
    await eventually(() => page.evaluate<boolean>(`(document.querySelector('[data-node="web-1"]')?.dataset.status ?? 'stopped') === 'stopped'`), WAIT_MS);
    // The process is gone; the master lists the node stopped until the agent forgets it.
    await eventually(() => !isAlive(spawned.pid), WAIT_MS);
    const listed = (await grid.call<{ nodes: ApiNode[] }>('nodes')).body.nodes.find((n) => n.nodeId === 'web-1');
    expect(listed === undefined || listed.status === 'stopped', JSON.stringify(listed)).toBe(true);
    await shot('05-stopped');
    expect(consoleErrors).toEqual([]);
  }, TEST_MS);

  it("shows the API's refusal in the dialog and keeps it open", async () => {
    await page.locator('[data-agent="a1"] button', { hasText: 'Drain' }).click();
    await page.locator('[role="dialog"] input[name="deadline"]').fill('soon');
    await page.locator('[role="dialog"] [data-confirm]').click();
    const alert = page.locator('[role="dialog"] [role="alert"]');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/deadline: must be a duration .*\(INVALID_ARGUMENT\)/);
    await shot('06-refused');
    await page.locator('[role="dialog"] button', { hasText: 'Cancel' }).click();
    await page.locator('[role="dialog"]').waitFor({ state: 'detached' });
    expect((await grid.call<{ agents: Array<{ id: string; cordoned: boolean }> }>('agents')).body.agents.find((a) => a.id === 'a1')?.cordoned).toBe(false);
    // The browser logs the 400 answer as a failed resource load: that one is expected.
    const unexpected = consoleErrors.filter((e) => !/status of 400/.test(e));
    expect(unexpected).toEqual([]);
    consoleErrors.length = 0;
  }, TEST_MS);

  it("plans a changed spec with the CLI's plan text, and applies it", async () => {
    const changed = gridSpec(AGENTS, [{ name: 'kv', nodes: 3 }]);
    const yaml = stringify(changed);
    await page.locator('textarea[name="spec"]').fill(yaml);
    await page.locator('[data-plan]').click();
    const planText = page.locator('[data-plan-text]');
    await planText.waitFor();
    const shown = (await planText.innerText()).trim();
    const cli = await grid.cli('plan', grid.writeSpec(changed));
    expect(cli.code, cli.stderr).toBe(2);
    expect(shown).toBe(cli.stdout.trim());
    expect(shown).toMatch(/\+ create kv-2 on a[12]/);
    await shot('07-plan');

    await page.locator('[data-apply]').click();
    await confirm();
    await page.locator('[role="status"]', { hasText: 'applied generation 2' }).waitFor();
    await page.locator('[data-node="kv-2"][data-status="running"]').waitFor();
    for (const n of await grid.nodes()) trackPid(n.pid);
    await shot('08-applied');
    expect(consoleErrors).toEqual([]);
  }, TEST_MS);
});

describe('dashboard with a token', () => {
  it('loads without the token, says the API wants one, and works once the operator enters it', async () => {
    const token = 'dashboard-test-token-0123456789';
    const master = await startMaster({ args: ['--http', '127.0.0.1:0'], env: { SUTRA_GRID_TOKEN: token } });
    const tokenPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      const m = await master.waitForLog(/master HTTP API listening on http:\/\/([^\s"]+)/);
      const http = `http://${m[1]!}`;
      // The files need no token (a navigation cannot send one); the API does.
      expect((await fetch(`${http}/`)).status).toBe(200);
      expect((await fetch(`${http}/app.js`)).status).toBe(200);
      expect((await fetch(`${http}/api/grid/status`)).status).toBe(401);
      tokenPage.setDefaultTimeout(WAIT_MS);
      const errors: string[] = [];
      tokenPage.on('pageerror', (err) => errors.push(err.message));
      await tokenPage.goto(`${http}/`);
      await tokenPage.locator('.banner[role="alert"]', { hasText: 'missing or invalid bearer token' }).waitFor();
      await tokenPage.locator('input[name="token"]').fill(token);
      await tokenPage.locator('form.token button[type="submit"]').click();
      await tokenPage.locator('[data-grid-health]').waitFor();
      await tokenPage.locator('[data-stream="live"]').waitFor();
      expect(await tokenPage.locator('.banner[role="alert"]').count()).toBe(0);
      // Kept for this tab only.
      expect(await tokenPage.evaluate<string | null>("sessionStorage.getItem('sutra-grid-token')")).toBe(token);
      await tokenPage.screenshot({ path: join(shots, '09-token.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await tokenPage.close();
      await master.stop('SIGTERM', 10_000);
    }
  }, TEST_MS);
});
