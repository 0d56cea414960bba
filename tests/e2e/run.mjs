// End-to-end tests of the web front end: the real `civgrid serve` on loopback, serving web/dist,
// over a demo district in a temporary database, driven by Debian's Chromium through
// playwright-core. An operator logs in and the map really draws grid polygons; the language
// switches; a grid worker reports a case while offline and sees it synced once (checked through
// the API); the operator opens that case and dispatches it; a resident reports and looks up the
// status; the field app's service worker keeps its shell; an operator imports a grid file with a
// bad feature and reads the report on the Grids page. Screenshots go to CG_E2E_ARTIFACTS
// (default build/e2e-artifacts). Parts needing an API this build lacks are reported as skipped.
// Exit status: 0 all passed (or skipped), 1 a failure, 77 nothing could run (no Chromium or no
// node_modules).
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.env.CIVGRID_SOURCE_DIR || join(here, '..', '..'));
const BIN = process.env.CIVGRID_BIN || join(root, 'build', 'civgrid');
const WEB = join(root, 'web', 'dist');
const ARTIFACTS = process.env.CG_E2E_ARTIFACTS || join(root, 'build', 'e2e-artifacts');
const CHROMIUM = process.env.CG_CHROMIUM || '/usr/bin/chromium';

function skipAll(why) {
  console.log('SKIP: ' + why);
  process.exit(77);
}
if (!existsSync(CHROMIUM)) skipAll('no Chromium at ' + CHROMIUM);
if (!existsSync(join(root, 'web', 'node_modules', 'playwright-core'))) skipAll('web/node_modules is missing (run scripts/setup)');
if (!existsSync(join(WEB, 'index.html'))) {
  console.log('FAIL: web/dist is not built (npm --prefix web run build)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const { chromium } = createRequire(join(root, 'web', 'package.json'))('playwright-core');

mkdirSync(ARTIFACTS, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), 'civgrid-e2e-'));
const db = join(tmp, 'demo', 'civgrid.db');
const ACCOUNTS = {
  operator: ['e2e-operator', 'Operator-e2e-2026!', 'operator', ''],
  worker: ['e2e-worker', 'Worker-e2e-2026!', 'worker', null], // scope: the worker's grid, below
  admin: ['e2e-admin', 'Admin-e2e-2026!', 'admin', ''],
};

function cli(args, input) {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8', timeout: 300000 });
  if (r.status !== 0) throw new Error(`civgrid ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// ---- the server ----
let server;
let base;
// The resident page posts over Open311, which takes reports only with a configured api_key; the
// page is opened with it in its link, as an office publishes it.
const OPEN311_KEY = 'e2e-resident-page-key';
function startServer() {
  const config = join(dirname(db), 'serve.json');
  writeFileSync(config, JSON.stringify({ open311_api_keys: OPEN311_KEY }));
  return new Promise((ok, fail) => {
    server = spawn(BIN, ['serve', '--config', config, '--db', db, '--port', '0', '--threads', '2', '--access-log', join(ARTIFACTS, 'access.log'), '--web', WEB], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => fail(new Error('server did not start: ' + out + err)), 30000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/serving http:\/\/([^/\s]+)\//);
      if (m) {
        clearTimeout(timer);
        base = 'http://' + m[1].replace('0.0.0.0', '127.0.0.1');
        ok();
      }
    });
    server.stderr.on('data', (d) => (err += d));
    server.on('exit', (code) => fail(new Error(`server exited ${code}: ${err}`)));
  });
}

async function api(method, path, body, token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let doc = null;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = text;
  }
  return { status: r.status, doc };
}
async function tokenOf(who) {
  const [u, p] = ACCOUNTS[who];
  const r = await api('POST', '/api/v1/auth/login', { username: u, password: p, client: 'token' });
  if (r.status !== 200) throw new Error(`login ${u}: ${r.status} ${JSON.stringify(r.doc)}`);
  return r.doc.token;
}

// ---- the tests ----
const results = [];
let lastPage = null; // screenshotted when a test fails
let browser;
const routes = cli(['serve', '--routes']);
const has = (line) => routes.split('\n').some((l) => l.trim() === line);
const HAS_CASES = has('POST /api/v1/cases') && has('GET /api/v1/cases');
const HAS_O311 = routes.includes('/open311/v2/requests');
const HAS_PLAN = has('GET /api/v1/coverage') && has('GET /api/v1/pois');

// CG_E2E_ONLY=regex runs only the tests whose names match (while working on one page).
const ONLY = process.env.CG_E2E_ONLY ? new RegExp(process.env.CG_E2E_ONLY) : null;

async function test(name, needs, fn) {
  if (ONLY && !ONLY.test(name)) needs = 'not in CG_E2E_ONLY';
  if (needs) {
    results.push([name, 'skip', needs]);
    console.log(`skip ${name}: ${needs}`);
    return;
  }
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, 'ok']);
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    if (lastPage && !lastPage.isClosed()) await shot(lastPage, 'FAIL-' + name.replace(/\W+/g, '-')).catch(() => {});
    results.push([name, 'fail', e]);
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function check(cond, msg) {
  if (!cond) throw new Error(msg);
}
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, name + '.png'), fullPage: false });

async function newPage(options = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: 'zh-CN', timezoneId: 'Europe/London', ...options });
  const page = await ctx.newPage();
  lastPage = page;
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED/.test(m.text()) && problems.push('console: ' + m.text()));
  return { ctx, page, problems };
}

async function consoleLogin(page, who) {
  const [u, p] = ACCOUNTS[who];
  await page.goto(base + '/');
  await page.fill('#username', u);
  await page.fill('#password', p);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('header.top nav');
}

// In the page: what the base-map tiles under `sel` drew (their counts of roads, buildings and
// outlines) and how many of their pixels hold paint (not just the tiles' existence).
function inkOfBasemap(sel) {
  let roads = 0, buildings = 0, outlines = 0, inked = 0, tiles = 0, painted = 0, failed = 0;
  for (const c of document.querySelectorAll(sel + ' canvas.basemap-tile')) {
    tiles++;
    if (c.dataset.roads !== undefined) painted++;
    if (c.dataset.failed) failed++;
    roads += +(c.dataset.roads || 0);
    buildings += +(c.dataset.buildings || 0);
    outlines += +(c.dataset.outlines || 0);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) if (d[i]) inked++;
  }
  return { tiles, painted, failed, roads, buildings, outlines, inked };
}

let workerPoint;
let caseId;
const description = 'e2e 离线上报 ' + process.pid + ' 井盖缺失';

async function main() {
  cli(['demo', '--out', join(tmp, 'demo')]);
  cli(['net', 'build', '--db', db]); // the road graph of the coverage page
  for (const [who, [u, p, role, scope]] of Object.entries(ACCOUNTS)) {
    if (who === 'worker') continue;
    cli(['user', 'add', u, '--db', db, '--roles', role, ...(scope ? ['--scope', scope] : [])], p + '\n');
  }
  await startServer();
  // The worker's grid and a point inside it: the centre of the grid's first ring, checked by locate.
  const admin = await tokenOf('admin');
  const g = (await api('GET', '/api/v1/grids?level=grid&limit=1', undefined, admin)).doc.grids[0];
  const geom = (await api('GET', '/api/v1/grids/' + g.code, undefined, admin)).doc.geometry;
  const ring = geom.type === 'MultiPolygon' ? geom.coordinates[0][0] : geom.coordinates[0];
  const lon = ring.slice(0, -1).reduce((s, c) => s + c[0], 0) / (ring.length - 1);
  const lat = ring.slice(0, -1).reduce((s, c) => s + c[1], 0) / (ring.length - 1);
  const where = (await api('GET', `/api/v1/locate?lat=${lat}&lon=${lon}`, undefined, admin)).doc;
  check(where.grid && where.grid.code === g.code, `the centre of ${g.code} is not in it: ${JSON.stringify(where)}`);
  workerPoint = { latitude: lat, longitude: lon };
  const [wu, wp] = ACCOUNTS.worker;
  cli(['user', 'add', wu, '--db', db, '--roles', 'worker', '--scope', g.code], wp + '\n');

  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });

  await test('operator logs in and the map draws the grids', null, async () => {
    const { ctx, page, problems } = await newPage();
    await consoleLogin(page, 'operator');
    await page.waitForSelector('.leaflet-overlay-pane svg path.grid-shape');
    const n = await page.locator('.leaflet-overlay-pane svg path.grid-shape').count();
    const streets = (await api('GET', '/api/v1/grids?level=street&limit=1000', undefined, admin)).doc.total;
    check(n === streets, `expected ${streets} street polygons on the map, found ${n}`);
    const d = await page.locator('.leaflet-overlay-pane svg path.grid-shape').first().getAttribute('d');
    check(d && d.length > 20 && /\d/.test(d), 'the polygon path has no geometry: ' + d);
    const box = await page.locator('.leaflet-overlay-pane svg').boundingBox();
    check(box && box.width > 200 && box.height > 200, 'the drawn grids are tiny: ' + JSON.stringify(box));
    await page.waitForFunction(() => [...document.querySelectorAll('.map canvas.basemap-tile')].some((c) => +c.dataset.roads > 0));
    const painted = await page.evaluate(inkOfBasemap, '.map');
    check(painted.roads > 0 && painted.outlines > 0 && painted.inked > 5000, 'the console map has no base map: ' + JSON.stringify(painted));
    await shot(page, '01-console-map');
    // Drill down: a street's communities replace it.
    await page.locator('.list .row').first().click();
    await page.waitForFunction((k) => document.querySelectorAll('.leaflet-overlay-pane svg path.grid-shape').length !== k, n);
    await page.waitForSelector('.crumbs button');
    check((await page.locator('.crumbs strong').textContent()).length > 0, 'no breadcrumb after drilling down');
    await shot(page, '02-console-map-street');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('the language switches between Chinese and English', null, async () => {
    const { ctx, page, problems } = await newPage();
    await consoleLogin(page, 'operator');
    check((await page.textContent('[data-nav=map]')) === '网格地图', 'the console does not open in Chinese');
    check((await page.getAttribute('html', 'lang')) === 'zh-CN', 'html lang is not zh-CN');
    await page.selectOption('header [data-testid=lang]', 'en');
    await page.waitForFunction(() => document.querySelector('[data-nav=map]').textContent === 'Grid map');
    check((await page.getAttribute('html', 'lang')) === 'en', 'html lang did not follow');
    await page.waitForSelector('.leaflet-overlay-pane svg path.grid-shape');
    await shot(page, '03-console-english');
    await page.reload();
    await page.waitForSelector('[data-nav=map]');
    check((await page.textContent('[data-nav=map]')) === 'Grid map', 'the choice did not survive a reload');
    await page.selectOption('header [data-testid=lang]', 'zh-CN');
    await page.waitForFunction(() => document.querySelector('[data-nav=map]').textContent === '网格地图');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('the keyboard alone drills into the map, with a visible focus', null, async () => {
    const { ctx, page, problems } = await newPage();
    await consoleLogin(page, 'operator');
    await page.waitForSelector('.list .row');
    // Tab from the start of the page until the first entry of the list has the focus.
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    let on = '';
    for (let i = 0; i < 40 && on !== 'row'; i++) {
      await page.keyboard.press('Tab');
      on = await page.evaluate(() => document.activeElement.className);
    }
    check(on === 'row', 'Tab never reached the list of streets');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    check(outline !== 'none', 'the focused entry shows no outline');
    await shot(page, '02b-console-keyboard-focus');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.crumbs button');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('grid administration shows the tree, a grid and the topology check', null, async () => {
    const { ctx, page, problems } = await newPage();
    await consoleLogin(page, 'operator');
    await page.goto(base + '/#/grids/' + g.code);
    await page.waitForSelector('.facts-card h2');
    check((await page.textContent('.facts-card h2')).includes(g.code), 'the grid facts are not of ' + g.code);
    await page.waitForSelector('.leaflet-overlay-pane svg path.grid-shape');
    await page.waitForSelector('.state.ok, .state.error');
    check(await page.locator('.tree [aria-selected=true]').count() === 1, 'the tree does not show the chosen grid');
    await shot(page, '04-console-grids');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('the coverage page maps posts, uncovered road, isochrones and proposed posts', HAS_PLAN ? null : 'no planning API in this build', async () => {
    const { ctx, page, problems } = await newPage();
    await consoleLogin(page, 'operator');
    await page.click('[data-nav=coverage]');
    // The stored police stations are the posts; the table and the map follow.
    await page.waitForSelector('[data-testid=posts] li');
    const police = (await api('GET', '/api/v1/pois?kind=police', undefined, admin)).doc.count;
    check((await page.locator('[data-testid=posts] li').count()) === police, `expected ${police} posts from the police stations`);
    await page.waitForSelector('[data-testid=cov-table] tbody tr');
    const grids = (await api('GET', '/api/v1/grids?level=grid&limit=1', undefined, admin)).doc.total;
    check((await page.locator('[data-testid=cov-table] tbody tr').count()) === grids, `the table does not list the ${grids} grids`);
    await page.waitForSelector('.leaflet-overlay-pane svg path.uncovered-road');
    const red = await page.locator('path.uncovered-road').count();
    const d = await page.locator('path.uncovered-road').first().getAttribute('d');
    check(red > 0 && d && d.length > 10, 'no uncovered road drawn');
    check((await page.locator('path.cov-grid').count()) === grids, 'the grids are not all coloured');
    check((await page.locator('.post-icon.existing').count()) === police, 'the posts are not on the map');
    check((await page.locator('path.worst-point').count()) > 0, 'no slowest points drawn');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=cov-map] canvas.basemap-tile')].some((c) => +c.dataset.roads > 0));
    const share = async () => parseFloat(await page.textContent('[data-measure=road]'));
    const two = await share();
    check(two > 0 && two < 100, 'the road share within 2 minutes is ' + two);
    await shot(page, '20-console-coverage');
    // Sorting by road share puts the least covered grid first.
    const roadColumn = () => page.$$eval('[data-testid=cov-table] tbody tr td:nth-child(2)', (tds) => tds.map((td) => parseFloat(td.textContent)));
    let cells = await roadColumn();
    check(cells[0] <= cells[cells.length - 1] && cells[0] < 100, 'not sorted by road share, least first: ' + cells.slice(0, 3) + ' … ' + cells.slice(-3));
    await page.click('[data-sort=road]');
    cells = await roadColumn();
    check(cells[0] >= cells[cells.length - 1], 'not sorted by road share, most first: ' + cells.slice(0, 3) + ' … ' + cells.slice(-3));
    check((await page.getAttribute('[data-sort=road] >> xpath=..', 'aria-sort')) === 'descending', 'aria-sort does not follow');
    // The budget from the keyboard: 5 minutes reach more road than 2.
    await page.focus('[data-budget="300"]');
    await page.keyboard.press('Space');
    await page.waitForFunction((v) => {
      const el = document.querySelector('[data-measure=road]');
      return el && parseFloat(el.textContent) > v;
    }, two);
    // back to the field's 2 minutes (at 5 the posts reach everything)
    await page.focus('[data-budget="120"]');
    await page.keyboard.press('Space');
    await page.waitForFunction((v) => {
      const el = document.querySelector('[data-measure=road]');
      return el && parseFloat(el.textContent) < 100;
    });
    // A click on the map draws the isochrone of that point.
    const box = await page.locator('[data-testid=cov-map]').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector('path.iso-area', { timeout: 30000 });
    check((await page.textContent('[data-testid=iso-info]')).match(/\d/), 'no isochrone figures');
    await shot(page, '21-console-coverage-isochrone');
    // A post added by clicking the map in "add" mode.
    await page.click('[data-testid=click-add]', { force: true });
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.4);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=posts] li').length === n + 1, police);
    // Proposed posts: the best 2 more, drawn apart, with the coverage they would give.
    await page.fill('input.num', '2');
    // A search under way shows it is searching and can be cancelled: nothing of it is shown then.
    const asked = page.waitForRequest((r) => r.url().endsWith('/api/v1/posts/plan') && r.method() === 'POST');
    await page.click('[data-testid=propose]');
    const planBody = JSON.parse((await asked).postData());
    check(planBody.time_limit_s === 3 && planBody.p === 2, 'the console did not ask for a short search: ' + JSON.stringify(planBody));
    await page.waitForSelector('[data-testid=planning]');
    check((await page.textContent('[data-testid=propose]')).includes('正在搜索'), 'the button does not say it is searching');
    await shot(page, '22a-console-coverage-searching');
    await page.click('[data-testid=propose-cancel]');
    await page.waitForSelector('[data-testid=plan-cancelled]');
    check(!(await page.locator('[data-testid=planning]').count()), 'still searching after cancelling');
    check(!(await page.locator('[data-testid=proposal]').count()) && !(await page.locator('.post-icon.proposed').count()), 'a cancelled search showed a proposal');
    await page.click('[data-testid=propose]');
    await page.waitForSelector('[data-testid=proposal]', { timeout: 90000 });
    check((await page.locator('.post-icon.proposed').count()) === 2, 'two proposed posts are not drawn');
    // ... and both inside the map's frame, not drawn off-screen: the map widens to show them.
    const offFrame = () => {
      const frame = document.querySelector('.coverage .leaflet-container').getBoundingClientRect();
      return [...document.querySelectorAll('.post-icon.proposed')]
        .map((el) => {
          const r = el.getBoundingClientRect();
          return { x: (r.left + r.right) / 2, y: (r.top + r.bottom) / 2, label: el.textContent };
        })
        .filter((p) => p.x < frame.left || p.x > frame.right || p.y < frame.top || p.y > frame.bottom)
        .map((p) => `${p.label} at (${Math.round(p.x)}, ${Math.round(p.y)}), frame ${Math.round(frame.left)}-${Math.round(frame.right)} x ${Math.round(frame.top)}-${Math.round(frame.bottom)}`);
    };
    const inFrame = await page.waitForFunction((f) => new Function('return (' + f + ')()')().length === 0, offFrame.toString(), { timeout: 5000 }).then(() => true, () => false);
    check(inFrame, 'proposed posts outside the map frame: ' + (await page.evaluate((f) => new Function('return (' + f + ')()')(), offFrame.toString())).join('; '));
    check((await page.textContent('[data-testid=cov-summary]')).includes('→'), 'the coverage with the proposal is not shown');
    await shot(page, '22-console-coverage-proposal');
    await page.click('[data-testid=adopt]');
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=posts] li').length === n + 3, police);
    // in English too
    await page.selectOption('header [data-testid=lang]', 'en');
    await page.waitForFunction(() => document.querySelector('.coverage h1').textContent === 'Response-time coverage');
    await page.waitForSelector('[data-testid=cov-table] tbody tr');
    check((await page.textContent('[data-testid=cov-table] thead')).includes('Slowest point'), 'the table is not in English');
    await shot(page, '22b-console-coverage-en');
    await page.selectOption('header [data-testid=lang]', 'zh-CN');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('an operator imports a grid file with one bad feature and sees the report', has('POST /api/v1/grids/imports') ? null : 'no grid import route in this build', async () => {
    // The worker's grid redrawn half as large again about its centre (valid, but overlapping its
    // siblings: topology findings) and a new sibling without a name (rejected).
    const full = (await api('GET', '/api/v1/grids/' + g.code, undefined, admin)).doc;
    const sibling = full.parent + '099';
    const grown = JSON.parse(JSON.stringify(full.geometry));
    const polys = grown.type === 'MultiPolygon' ? grown.coordinates : [grown.coordinates];
    for (const poly of polys) for (const ring of poly) for (const pt of ring) {
      pt[0] = lon + (pt[0] - lon) * 1.5;
      pt[1] = lat + (pt[1] - lat) * 1.5;
    }
    const file = {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', properties: { code: full.code, name: full.name_zh, name_en: full.name_en, grade: full.grade, households: full.households }, geometry: grown },
        { type: 'Feature', properties: { code: sibling, grade: 'routine' }, geometry: full.geometry },
      ],
    };
    const versionsBefore = (await api('GET', '/api/v1/grids/' + g.code + '/history', undefined, admin)).doc.versions.length;
    const { ctx, page, problems } = await newPage();
    await consoleLogin(page, 'operator');
    await page.goto(base + '/#/grids');
    await page.waitForSelector('[data-testid=import-form]');
    await page.setInputFiles('#import-file', { name: 'grids-e2e.geojson', mimeType: 'application/geo+json', buffer: Buffer.from(JSON.stringify(file)) });
    await page.check('input[name=mode][value=write]');
    await page.click('[data-testid=import-start]');
    await page.waitForSelector('[data-testid=import-progress] progress');
    await page.waitForSelector('[data-testid=import-outcome]');
    check((await page.getAttribute('[data-testid=import-outcome]', 'data-state')) === 'rejected', 'the import was not rejected');
    check((await page.getAttribute('[data-testid=import-progress] progress', 'value')) === '100', 'the progress bar did not finish');
    const rows = page.locator('[data-testid=import-rejects] tbody tr');
    check((await rows.count()) === 1, 'expected one rejected-feature row, found ' + (await rows.count()));
    const row = await rows.first().textContent();
    check(row.includes(sibling) && row.includes('name_zh'), 'the row does not name the feature and field: ' + row);
    // the reason in the console's language (from the server's reason code), not the server's English
    const reason = (await page.textContent('[data-testid=import-rejects] tbody tr td[data-reason-code=name_missing]')) || '';
    check(reason.includes('缺少名称') && !/missing/.test(reason), 'the reason is not in Chinese: ' + reason);
    check((await page.textContent('[data-testid=import-outcome]')).includes('未写入'), 'the outcome does not say nothing was written');
    // drawn on the map; the row's button (reached and pressed from the keyboard) zooms to it
    await page.waitForSelector('.leaflet-overlay-pane svg path.import-reject');
    await page.focus('[data-testid=import-rejects] tbody tr button');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.leaflet-tooltip.import-tip');
    check((await page.textContent('.leaflet-tooltip.import-tip')).includes(sibling), 'the tooltip does not name the rejected feature');
    check((await page.locator('[data-testid=import-rejects] tbody tr.on').count()) === 1, 'the chosen row is not marked');
    // the grown grid overlaps its siblings: findings listed and drawn; clicking a row zooms to it
    const findingRows = page.locator('[data-testid=import-findings] tbody tr');
    check((await findingRows.count()) >= 1, 'the overlapping grid gave no topology finding');
    check((await findingRows.first().textContent()).includes(full.code), 'the finding does not name ' + full.code);
    check((await page.textContent('[data-testid=import-findings] tbody td[data-reason-code=overlap]')).includes('重叠'), 'the overlap finding has no Chinese reason');
    check((await page.locator('.leaflet-overlay-pane svg path.import-finding').count()) >= 1, 'no finding drawn on the map');
    await findingRows.first().click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=import-findings] tbody tr.on').length === 1);
    await shot(page, '13b-console-grid-import-finding');
    await page.locator('[data-testid=import-rejects] tbody tr').first().click();
    await shot(page, '13-console-grid-import');
    // nothing was written: the grid has its versions, the sibling does not exist
    const versionsAfter = (await api('GET', '/api/v1/grids/' + g.code + '/history', undefined, admin)).doc.versions.length;
    check(versionsAfter === versionsBefore, 'a rejected import wrote a version');
    check((await api('GET', '/api/v1/grids/' + sibling + '/history', undefined, admin)).status === 404, 'the rejected feature was written');
    // and in English
    await page.selectOption('header [data-testid=lang]', 'en');
    await page.waitForFunction(() => document.querySelector('[data-testid=import-outcome]').textContent.includes('nothing was written'));
    check((await page.textContent('[data-testid=import-rejects] tbody td[data-reason-code=name_missing]')).includes('every grid needs a name'), 'the reason did not follow the language');
    await shot(page, '14-console-grid-import-en');
    await page.selectOption('header [data-testid=lang]', 'zh-CN');
    // a reload comes back to the job and its report; closing the report forgets it
    await page.reload();
    await page.waitForSelector('[data-testid=import-rejects] tbody tr');
    check((await page.getAttribute('[data-testid=import-outcome]', 'data-state')) === 'rejected', 'the job was not shown again after a reload');
    await page.click('[data-testid=import-report] header button');
    await page.waitForSelector('[data-testid=import-report]', { state: 'detached' });
    await page.reload();
    await page.waitForSelector('[data-testid=import-form]');
    check((await page.locator('[data-testid=import-outcome]').count()) === 0, 'a closed report came back after a reload');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('an administrator sees the accounts', null, async () => {
    const { ctx, page, problems } = await newPage();
    await consoleLogin(page, 'admin');
    await page.click('[data-nav=users]');
    await page.waitForSelector('table.data tbody tr');
    const text = await page.textContent('table.data');
    check(text.includes('e2e-worker') && text.includes('e2e-operator'), 'accounts missing from the list');
    await shot(page, '05-console-users');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('the field app is installable: manifest and a service worker keeping its shell', null, async () => {
    const { ctx, page } = await newPage({ viewport: { width: 412, height: 860 } });
    await page.goto(base + '/field.html');
    const manifest = await page.evaluate(async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json());
    check(manifest.start_url === '/field.html' && manifest.display === 'standalone' && manifest.icons.length, 'bad manifest ' + JSON.stringify(manifest));
    const cached = await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      const keys = await caches.keys();
      const c = await caches.open(keys.find((k) => k.startsWith('civgrid-shell-')));
      return !!(await c.match('/field.html'));
    });
    check(cached, 'the service worker did not cache /field.html');
    await ctx.close();
  });

  await test('a worker reports while offline and it is synced exactly once', HAS_CASES ? null : 'no /api/v1/cases in this build', async () => {
    // Service workers are blocked here so that the emulated loss of signal covers every request.
    const { ctx, page, problems } = await newPage({ viewport: { width: 412, height: 860 }, geolocation: workerPoint, permissions: ['geolocation'], serviceWorkers: 'block', isMobile: true, hasTouch: true });
    await page.goto(base + '/field.html');
    await page.fill('#username', ACCOUNTS.worker[0]);
    await page.fill('#password', ACCOUNTS.worker[1]);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('[data-tab=report]');
    await page.click('[data-tab=report]');
    await page.waitForSelector('#category option:nth-child(2)', { state: 'attached' });
    await ctx.setOffline(true);
    await page.waitForSelector('[data-testid=net].off');
    await page.selectOption('#category', { index: 1 });
    await page.fill('#description', description);
    await page.click('[data-testid=gps]');
    await page.waitForFunction(() => /\d+\.\d+, \d+\.\d+/.test(document.querySelector('[data-testid=where]').textContent));
    await page.click('form button[type=submit].primary');
    await page.waitForSelector('[data-testid=pending-count]');
    check((await page.textContent('[data-testid=pending]')).includes(description.slice(0, 20)), 'the outbox does not show the report');
    await shot(page, '06-field-offline-pending');
    const before = await casesWith(admin, description);
    check(before.length === 0, 'a case reached the server while offline');
    await ctx.setOffline(false);
    await page.waitForSelector('[data-testid=synced]', { timeout: 30000 });
    check((await page.locator('[data-testid=pending] li').count()) === 0, 'items still pending after syncing');
    await page.waitForSelector('[data-testid=sent] li');
    await shot(page, '07-field-synced');
    // A second flush (another online event, the timer) must not send it again.
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.click('[data-tab=outbox]').catch(() => {});
    const after = await casesWith(admin, description);
    check(after.length === 1, `expected exactly one case with the description, found ${after.length}`);
    caseId = after[0].id;
    check((await page.textContent('[data-testid=sent]')).includes('#' + caseId), 'the sent list does not name case #' + caseId);
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('the operator opens the case and dispatches it', HAS_CASES ? null : 'no /api/v1/cases in this build', async () => {
    check(caseId, 'no case from the field test to dispatch');
    const { ctx, page, problems } = await newPage();
    await consoleLogin(page, 'operator');
    await page.click('[data-nav=cases]');
    await page.waitForSelector(`[data-case="${caseId}"]`);
    await shot(page, '08-console-workbench');
    await page.click(`[data-case="${caseId}"]`);
    await page.waitForSelector('#case-title');
    check((await page.textContent('.case dl.facts')).includes(description), 'the detail does not show the description');
    const state = async () => (await api('GET', '/api/v1/cases/' + caseId, undefined, admin)).doc.case;
    if ((await state()).state === 'reported') {
      await page.click('[data-action=register]');
      await page.waitForSelector('.dialog');
      await shot(page, '09a-console-register-dialog');
      await page.click('.dialog button[type=submit]');
      await page.waitForSelector('[data-action=dispatch]');
    }
    await page.click('[data-action=dispatch]');
    await page.waitForSelector('.dialog');
    await page.waitForSelector('[data-testid=dispatch-confirm]:not([disabled])');
    await shot(page, '09-console-dispatch-dialog');
    await page.click('[data-testid=dispatch-confirm]');
    await page.waitForFunction(() => document.querySelector('[data-testid=case-state]').classList.contains('s-dispatched'));
    const c = await state();
    check(c.state === 'dispatched', 'the case is ' + c.state + ' after dispatching');
    check(c.assignee && c.assignee.kind !== 'none', 'the dispatched case has no assignee');
    await page.waitForSelector('.timeline li:nth-child(3)');
    await shot(page, '10-console-dispatched');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  await test('a resident reports a problem and looks up its status', HAS_O311 ? null : 'no /open311/v2/requests in this build', async () => {
    const { ctx, page, problems } = await newPage({ viewport: { width: 412, height: 900 }, isMobile: true, hasTouch: true });
    await page.goto(base + '/report.html?key=' + OPEN311_KEY);
    await page.waitForSelector('#category option:nth-child(2)', { state: 'attached' });
    await page.selectOption('#category', { index: 1 });
    await page.fill('#description', '市民 e2e: 路灯不亮 ' + process.pid);
    // The map beneath the pin is civgrid's base map: roads really painted on its tiles.
    await page.waitForFunction(() => [...document.querySelectorAll('.pickmap canvas.basemap-tile')].some((c) => +c.dataset.roads > 0));
    const painted = await page.evaluate(inkOfBasemap, '.pickmap');
    check(painted.roads > 0 && painted.inked > 2000, 'the resident map drew no roads: ' + JSON.stringify(painted));
    const box = await page.locator('.pickmap').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => /\d+\.\d+, \d+\.\d+/.test(document.querySelector('[data-testid=where]').textContent));
    await shot(page, '11-resident-form');
    await page.click('form button[type=submit].primary');
    await page.waitForSelector('[data-testid=case-number]');
    const number = (await page.textContent('[data-testid=case-number]')).trim();
    check(/^\S+$/.test(number), 'no case number: ' + number);
    await page.fill('#lookup-id', number);
    await page.click('#lookup-id ~ button[type=submit]');
    await page.waitForSelector('[data-testid=lookup-status]');
    check((await page.textContent('[data-testid=lookup-status]')).trim() === '办理中', 'the status of a new report is not "being handled"');
    await shot(page, '12-resident-lookup');
    check(!problems.length, problems.join('\n'));
    await ctx.close();
  });

  // Last: it stops the server, so nothing after it could reach one.
  await test('the field map draws roads without signal from the tiles saved for the worker', null, fieldOfflineMap);
}

async function fieldOfflineMap() {
  const { ctx, page, problems } = await newPage({ viewport: { width: 412, height: 860 }, isMobile: true, hasTouch: true });
  await page.goto(base + '/field.html');
  await page.fill('#username', ACCOUNTS.worker[0]);
  await page.fill('#password', ACCOUNTS.worker[1]);
  await page.click('#login button[type=submit]');
  await page.waitForSelector('[data-tab=report]');
  // The service worker controls the page (it claims it once active).
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.waitForFunction(() => !!navigator.serviceWorker.controller);
  await page.click('[data-tab=report]');
  await page.waitForFunction(() => [...document.querySelectorAll('.pickmap canvas.basemap-tile')].some((c) => +c.dataset.roads > 0));
  await page.click('[data-testid=save-area]');
  await page.waitForSelector('[data-testid=tiles-saved]', { timeout: 60000 });
  const kept = await page.evaluate(async () => (await (await caches.open('civgrid-tiles-v1')).keys()).filter((r) => /\/api\/v1\/basemap\/\d+\/\d+\/\d+$/.test(r.url)).length);
  check(kept >= 10, 'only ' + kept + ' tiles kept');
  check((await page.textContent('[data-testid=offline-map]')).includes(String(kept)), 'the page does not say how many tiles are kept');
  await shot(page, '23-field-offline-map-saved');
  // No signal, and no server at all: the app opens from its shell and the map from the tiles.
  // The browser's HTTP cache is emptied (tiles may sit there five minutes), so the map can only
  // draw from the tiles the app kept.
  await (await ctx.newCDPSession(page)).send('Network.clearBrowserCache');
  await ctx.setOffline(true);
  server.kill('SIGTERM');
  await new Promise((r) => (server.exitCode !== null ? r() : server.on('exit', r)));
  await page.reload();
  await page.waitForSelector('[data-tab=report]');
  await page.click('[data-tab=report]');
  // The map opens on the worker's grid (kept on the phone); wait until the grid is drawn and
  // every tile in view has answered, painted or failed (not merely until something is inked: a
  // map that first drew elsewhere and then moved would pass that with tiles still blank).
  await page.waitForSelector('.pickmap .leaflet-overlay-pane svg path.grid-shape');
  await page
    .waitForFunction(
      (f) => {
        const ink = new Function('return ' + f)()('.pickmap');
        return ink.tiles > 0 && ink.painted + ink.failed === ink.tiles;
      },
      inkOfBasemap.toString(),
      { timeout: 30000 },
    )
    .catch(() => {});
  const painted = await page.evaluate(inkOfBasemap, '.pickmap');
  if (!(painted.roads > 0 && painted.inked > 2000 && painted.failed === 0 && painted.painted === painted.tiles)) {
    const held = await page.evaluate(async () => ({
      kept: (await (await caches.open('civgrid-tiles-v1')).keys()).map((r) => new URL(r.url).pathname),
      shown: [...document.querySelectorAll('.pickmap .leaflet-tile-container')].map((c) => c.style.transform),
      controlled: !!navigator.serviceWorker.controller,
    })).catch((e) => String(e));
    await shot(page, 'FAIL-field-offline-map').catch(() => {});
    await ctx.close();
    throw new Error('the offline map did not draw from the kept tiles: ' + JSON.stringify(painted) + ' ' + JSON.stringify(held));
  }
  check((await page.locator('.leaflet-overlay-pane svg path.grid-shape').count()) >= 1, 'the worker\'s grid is not drawn offline');
  await shot(page, '24-field-offline-map');
  check(!problems.filter((p) => !/net::|Failed to fetch|NetworkError/.test(p)).length, problems.join('\n'));
  await ctx.close();
}

async function casesWith(token, text) {
  const r = await api('GET', '/api/v1/cases?limit=500', undefined, token);
  if (r.status !== 200) throw new Error('GET /api/v1/cases: ' + r.status + ' ' + JSON.stringify(r.doc));
  return (r.doc.cases || []).filter((c) => c.description === text);
}

let code = 0;
try {
  await main();
} catch (e) {
  console.log('FAIL setup: ' + (e && e.stack ? e.stack : e));
  results.push(['setup', 'fail', e]);
} finally {
  if (browser) await browser.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((r) => server.on('exit', r));
  }
  rmSync(tmp, { recursive: true, force: true });
}
const passed = results.filter((r) => r[1] === 'ok').length;
const failed = results.filter((r) => r[1] === 'fail').length;
const skipped = results.filter((r) => r[1] === 'skip').length;
console.log(`screenshots: ${ARTIFACTS}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
code = failed ? 1 : 0;
process.exit(code);
