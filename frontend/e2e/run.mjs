// End-to-end journey through the real UI: the built frontend served by the
// browser-test harness (desktop/cmd/lockstep-harness) with the real Go bridge,
// talking to a real `lockstep-agent demo`. Start it with build/ui-test.sh
// (make ui-test), which exports the variables read below.
//
// The journey is the one an administrator takes on a new agent: add the
// agent, compare and pin its fingerprint, log in, add two systems on a real
// sandbox work system and test them, create a sync process in the editor,
// activate it, watch its entity pairs appear, take the pair lifecycle by
// hand (pairs.mjs: a deleted entity's way out, adopting existing pairs,
// resolving a conflict), follow the live log while an entity syncs, and
// download a support package, with a screenshot of every page. Then a
// second agent joins (fleet.mjs): the fleet view shows both,
// switching between them asks for no new sign-in, and the process is copied
// from the first to the second with its systems (their secrets typed again).
//
// Headless system Chromium through playwright-core; no browser is ever
// downloaded. Screenshots of every page go to build/artifacts/ui/.
import { spawn } from 'node:child_process'
import { get as httpsGet } from 'node:https'
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AxeBuilder } from '@axe-core/playwright'
import { chromium } from 'playwright-core'
import { fleetJourney } from './fleet.mjs'
import { pairsJourney } from './pairs.mjs'
import { legibleAtSmallWindow, systemFailingAlone } from './truth.mjs'

const env = (k, fallback) => {
  const v = process.env[k] ?? fallback
  if (v === undefined) {
    console.error(`e2e: ${k} is not set; run this through build/ui-test.sh`)
    process.exit(2)
  }
  return v
}
const harnessURL = env('LOCKSTEP_HARNESS_URL')
const agentAddr = env('LOCKSTEP_AGENT_ADDR', (process.env.LOCKSTEP_AGENT_URL ?? '').replace(/^wss:\/\//, '').replace(/\/v1\/ws$/, ''))
const expectedFingerprint = env('LOCKSTEP_AGENT_FINGERPRINT')
const adminUser = env('LOCKSTEP_ADMIN_USER', 'admin')
const adminPassword = env('LOCKSTEP_ADMIN_PASSWORD')
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium'
const sandboxURL = env('LOCKSTEP_SANDBOX_URL')
const sandboxToken = env('LOCKSTEP_SANDBOX_TOKEN')
const agentBin = env('LOCKSTEP_AGENT_BIN')
const agentData = env('LOCKSTEP_AGENT_DATA')
const agentPasswordFile = env('LOCKSTEP_AGENT_PASSWORD_FILE')
const agentPidFile = env('LOCKSTEP_AGENT_PIDFILE')
const agent2Addr = env('LOCKSTEP_AGENT2_ADDR')
const agent2Fingerprint = env('LOCKSTEP_AGENT2_FINGERPRINT')

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const shots = join(root, 'build/artifacts/ui')
rmSync(shots, { recursive: true, force: true })
mkdirSync(shots, { recursive: true })
const profileDir = mkdtempSync(join(tmpdir(), 'lockstep-e2e-chromium-'))

// A persistent context is how Playwright takes a fresh --user-data-dir.
const context = await chromium.launchPersistentContext(profileDir, {
  executablePath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1360, height: 860 },
})
const page = context.pages()[0] ?? (await context.newPage())
page.setDefaultTimeout(20_000)
const consoleErrors = []
page.on('pageerror', (e) => consoleErrors.push(String(e)))

const failures = []
let n = 0
// step runs one part of the journey; one that needs an earlier, failed step
// is skipped (and counted as failed) rather than left to time out.
async function step(name, fn, needs = []) {
  const missing = needs.filter((d) => failures.includes(d))
  if (missing.length) {
    failures.push(name)
    console.log(`SKIP ${name}: needs ${missing.join(', ')}`)
    return
  }
  const started = Date.now()
  try {
    await fn()
    console.log(`ok   ${name} (${Date.now() - started} ms)`)
  } catch (e) {
    failures.push(name)
    console.log(`FAIL ${name}: ${e?.message ?? e}`)
    await shot(`failed-${name}`)
  }
}
// shown holds the sidebar pages (#/route) that have a screenshot.
const shown = new Set()
async function shot(name) {
  n++
  const file = join(shots, `${String(n).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`)
  await page.screenshot({ path: file }).catch(() => {})
  if (name.startsWith('failed-')) return
  const current = await page.getByRole('navigation', { name: 'Main' }).locator('a[aria-current="page"]').getAttribute('href', { timeout: 1000 }).catch(() => null)
  if (current) shown.add(current)
}
// tallShot shows a whole long page: the main area scrolls inside a window
// of fixed height, so the window grows to fit it for one screenshot.
async function tallShot(name) {
  const viewport = page.viewportSize()
  const height = await page.evaluate(() => {
    const m = document.querySelector('main')
    return m ? m.scrollHeight - m.clientHeight + window.innerHeight : window.innerHeight
  })
  await page.setViewportSize({ width: viewport.width, height: Math.min(height, 8000) })
  await shot(name)
  await page.setViewportSize(viewport)
}
const go = async (route) => {
  await page.goto(new URL(`#/${route}`, harnessURL).toString())
  await page.locator('main h1').first().waitFor()
}
const button = (name) => page.getByRole('button', { name, exact: true })
// metricsStatus is the status of GET /metrics on the agent with a bearer
// token, as Prometheus asks (the agent's certificate is self-signed).
const metricsStatus = (token) =>
  new Promise((resolve, reject) => {
    const [host, port] = [agentAddr.slice(0, agentAddr.lastIndexOf(':')), agentAddr.slice(agentAddr.lastIndexOf(':') + 1)]
    const req = httpsGet({ host, port, path: '/metrics', headers: { Authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 30_000 }, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('timeout', () => req.destroy(new Error('GET /metrics: no answer in 30 s')))
    req.on('error', reject)
  })
// systemRow is a system's row on the Systems page (its first cell names it).
const systemRow = (name) => page.locator('main table tbody tr').filter({ has: page.locator('td:first-child strong', { hasText: new RegExp(`^${name}$`) }) })
// noLoading waits until the page shows no spinner: what it shows is loaded.
const noLoading = () => page.waitForFunction(() => !document.querySelector('main .loading'), null, { timeout: 60_000 })

// Layout checks for what a screenshot showed wrong once; boxes in CSS pixels.
const box = async (locator) => {
  const b = await locator.boundingBox()
  if (!b) throw new Error(`${locator} is not visible`)
  return b
}
async function alignedLeft(ref, locator, what) {
  const [r, b] = [await box(ref), await box(locator)]
  if (Math.abs(r.x - b.x) > 1) throw new Error(`${what} starts at x=${b.x}, the page's heading at x=${r.x}`)
}
// fitsWidth fails when an element is wider than its box, i.e. its content
// runs off to the right or needs a horizontal scroll bar.
async function fitsWidth(locator, what) {
  const { scroll, client } = await locator.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }))
  if (scroll > client + 1) throw new Error(`${what} is ${scroll} px wide in a box of ${client} px`)
}
// spaced fails when below starts less than gap px under above.
async function spaced(above, below, gap, what) {
  const [a, b] = [await box(above), await box(below)]
  if (b.y - (a.y + a.height) < gap) throw new Error(`${what}: ${Math.round(b.y - (a.y + a.height))} px apart, want at least ${gap}`)
}

// overflows lists what scrolls sideways in the window as it is now: the
// window itself, the main area, any table's box and an open dialog.
const overflows = () =>
  page.evaluate(() => {
    const out = []
    const doc = document.documentElement
    if (doc.scrollWidth > doc.clientWidth + 1) out.push(`the window is ${doc.scrollWidth} px wide in ${doc.clientWidth}`)
    if (doc.scrollHeight > doc.clientHeight + 1) out.push(`the window scrolls: ${doc.scrollHeight} px tall in ${doc.clientHeight}`)
    for (const el of document.querySelectorAll('main, main .table-wrap, .modal, .modal .table-wrap')) {
      if (el.scrollWidth > el.clientWidth + 1) out.push(`${el.tagName.toLowerCase()}.${el.className} is ${el.scrollWidth} px wide in ${el.clientWidth}`)
    }
    return out
  })
// seriousViolations runs axe-core on the page as it is now and lists what
// it finds serious or critical.
async function seriousViolations(where) {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${where}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 3).map((nd) => nd.target.join(' ')).join(' | ')}`)
}
// atSmallWindow checks what is shown now at 1024x700: nothing scrolls
// sideways, and axe finds nothing serious in the light or the dark theme
// (set on <html> as the theme toggle does, so an open dialog stays open);
// with a screenshot in each.
async function atSmallWindow(name) {
  const viewport = page.viewportSize()
  const before = await page.evaluate(() => document.documentElement.dataset.theme ?? '')
  await page.setViewportSize({ width: 1024, height: 700 })
  try {
    const wide = await overflows()
    if (wide.length) throw new Error(`${name} scrolls sideways at 1024x700: ${wide.join('; ')}`)
    const found = []
    for (const theme of ['light', 'dark']) {
      await page.evaluate((t) => (document.documentElement.dataset.theme = t), theme)
      found.push(...(await seriousViolations(`${theme} ${name}`)))
      await shot(`${name}-1024x700-${theme}`)
    }
    if (found.length) throw new Error(`accessibility violations:\n  ${found.join('\n  ')}`)
  } finally {
    await page.evaluate((t) => (t ? (document.documentElement.dataset.theme = t) : delete document.documentElement.dataset.theme), before)
    await page.setViewportSize(viewport)
  }
}

// until polls fn until it returns something truthy, for what the UI shows
// only after a reload (the deadline is how long to wait, not an assertion).
async function until(what, fn, timeout = 60_000) {
  const deadline = Date.now() + timeout
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v) return v
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await page.waitForTimeout(250)
  }
}

// choose puts a value into one of the editor's controls, whether it is a
// plain text input, an input with a datalist of suggestions, or a select
// (whose options may arrive after the systems' schemas load). For a select
// the value is an option's value or the start of its label.
async function choose(control, value) {
  await control.waitFor()
  if ((await control.evaluate((el) => el.tagName)) !== 'SELECT') {
    await control.fill(value)
    return
  }
  const option = await until(`option ${value} of ${await control.getAttribute('aria-label')}`, async () => {
    const options = await control.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, label: (o.textContent ?? '').trim() })))
    return options.find((o) => o.value === value) ?? options.find((o) => o.label === value) ?? options.find((o) => value !== '' && o.label.startsWith(value))
  }, 20_000)
  await control.selectOption(option.value)
}

// sandbox calls the journey's own sandbox work system, as its users would.
async function sandbox(method, path, body) {
  const r = await fetch(new URL(path, sandboxURL), {
    method,
    headers: { Authorization: `Bearer ${sandboxToken}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  if (!r.ok) throw new Error(`sandbox ${method} ${path}: ${r.status} ${text}`)
  return text ? JSON.parse(text) : undefined
}


// The support desk's project has statuses of its own, so the process needs a
// value map to reach the engineering project's; priorities are the same.
const supportProject = { key: 'SUP', name: 'Support', types: ['incident'], statuses: ['new', 'working', 'solved', 'closed'] }
const statusMap = [
  ['new', 'open'],
  ['working', 'in_progress'],
  ['solved', 'resolved'],
  ['closed', 'closed'],
]
const incidents = [
  { title: 'E2E: badge reader rejects every card', status: 'new', priority: 'high' },
  { title: 'E2E: nightly export is empty', status: 'working', priority: 'critical' },
  { title: 'E2E: wrong currency on invoices', status: 'solved', priority: 'low' },
]
const processName = 'E2E support incidents to engineering bugs'
// The page of one pair, screenshotted with the sidebar's pages.
let pairRoute = ''

try {
  await step('agents page loads', async () => {
    await page.goto(harnessURL)
    await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor()
    await shot('agents-empty')
  })

  await step('add an agent and pin its fingerprint after comparing', async () => {
    await button('Add agent').click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Name').fill('demo')
    await dialog.getByLabel('Agent URL').fill(agentAddr)
    await dialog.getByRole('button', { name: 'Fetch fingerprint' }).click()
    const shown = (await dialog.getByTestId('fingerprint').innerText()).replace(/\s+/g, '')
    if (shown !== expectedFingerprint) throw new Error(`fingerprint shown ${shown} differs from lockstep-agent fingerprint ${expectedFingerprint}`)
    await shot('agents-fingerprint')
    const pin = dialog.getByRole('button', { name: 'Pin fingerprint and connect' })
    if (await pin.isEnabled()) throw new Error('pin is enabled before the comparison was confirmed')
    await dialog.getByLabel(/I compared it/).check()
    await pin.click()
    await page.getByLabel('Password').waitFor()
  })

  await step('log in', async () => {
    await shot('login')
    await page.getByLabel('Username').fill(adminUser)
    await page.getByLabel('Password').fill(adminPassword)
    await button('Sign in').click()
    await page.getByTestId('session-user').waitFor()
    await page.getByTestId('conn-state').filter({ hasText: 'Connected to demo' }).waitFor()
  })

  await step('agents page with the connected agent', async () => {
    await go('agents')
    await page.getByTestId('conn-state').filter({ hasText: 'Connected to demo' }).waitFor()
    await page.getByTestId('agent-state').filter({ hasText: `Connected, signed in as ${adminUser}` }).waitFor()
    await alignedLeft(page.locator('main h1').first(), page.locator('.agent-row').first(), 'the agent card')
    await shot('agents')
  })

  await step('dashboard', async () => {
    await go('dashboard')
    await page.getByTestId('host-info').waitFor()
    await page.getByTestId('processes-count').waitFor()
    await shot('dashboard')
  })

  await step('the support desk has incidents', async () => {
    await sandbox('POST', '/api/projects', supportProject)
    for (const i of incidents) await sandbox('POST', '/api/items', { project: 'SUP', type: 'incident', ...i })
  })

  await step('create two sandbox systems and test their connections', async () => {
    await go('systems')
    await page.locator('table').waitFor()
    for (const [name, project] of [
      ['E2E Support', 'SUP'],
      ['E2E Engineering', 'ENG'],
    ]) {
      await button('Add system').first().click()
      await page.getByRole('dialog').getByLabel('Kind of system').selectOption('sandbox')
      await page.getByRole('dialog').getByRole('button', { name: 'Continue' }).click()
      const form = page.getByRole('form', { name: /system$/ })
      await form.getByLabel(/^Name/).fill(name)
      await form.getByLabel(/^URL/).fill(sandboxURL)
      await form.getByLabel(/^Project/).fill(project)
      await form.getByLabel(/^API token/).fill(sandboxToken)
      if (name === 'E2E Support') {
        // The agent's own check, shown at the field it names: credentials
        // belong in the secret fields, not in the URL.
        const url = form.getByLabel(/^URL/)
        await url.fill(sandboxURL.replace('://', '://bot:pw@'))
        await form.getByRole('button', { name: 'Create system' }).click()
        await page.locator('#system-field-_url[aria-invalid="true"]').waitFor()
        const said = await form.locator('.field-error-text').allInnerTexts()
        if (!said.some((t) => t.includes('credentials'))) throw new Error(`the URL's error from the agent is not at the field: ${said.join(' | ')}`)
        await url.fill(sandboxURL)
      }
      if (name === 'E2E Engineering') await shot('systems-new')
      await form.getByRole('button', { name: 'Create system' }).click()
      const row = systemRow(name)
      await row.waitFor()
      await button(`Test connection to ${name}`).click()
      const result = (await row.getByTestId('test-result').innerText()).trim()
      if (!result.startsWith('OK')) throw new Error(`the connection test of ${name} says: ${result}`)
    }
    if ((await page.content()).includes(sandboxToken)) throw new Error('a secret appears in the page')
    await shot('systems')
  })

  await step('create a sync process in the editor', async () => {
    await go('processes')
    await shot('processes')
    await button('New process').first().click()
    const form = page.getByRole('form', { name: 'Sync process configuration' })
    await form.waitFor()
    const opened = Date.now()
    await choose(form.getByLabel('Name', { exact: true }), processName)
    await choose(form.getByLabel('System A', { exact: true }), 'E2E Support')
    await choose(form.getByLabel('System B', { exact: true }), 'E2E Engineering')
    await choose(form.getByLabel('Project in A', { exact: true }), 'SUP')
    await choose(form.getByLabel('Project in B', { exact: true }), 'ENG')

    // A new process starts with one entity-type pair mapping title to title.
    await choose(form.getByLabel('Entity type in A (pair 1)', { exact: true }), 'incident')
    await choose(form.getByLabel('Entity type in B (pair 1)', { exact: true }), 'bug')
    const types = form.getByRole('region', { name: /^Entity types 1:/ })
    const fieldPair = (i) => types.getByRole('group', { name: `Field pair ${i}`, exact: true })
    const title = fieldPair(1)
    if ((await title.getByLabel(/^Field in A of/).inputValue()) !== 'title') throw new Error('the first field pair is not title')
    for (const [i, field] of [
      [2, 'status'],
      [3, 'priority'],
    ]) {
      await types.getByRole('button', { name: 'Add field pair', exact: true }).click()
      await choose(fieldPair(i).getByLabel(/^Field in A of/), field)
      await choose(fieldPair(i).getByLabel(/^Field in B of/), field)
      await choose(fieldPair(i).getByLabel(/^Direction of/), 'both')
    }
    const status = fieldPair(2)
    await status.getByText('Value map and transforms').click()
    await status.getByRole('button', { name: 'Add value map', exact: true }).click()
    for (const [i, [a, b]] of statusMap.entries()) {
      if (i > 0) await status.getByRole('button', { name: 'Add value', exact: true }).click()
      await choose(status.getByLabel(new RegExp(`^Value in A \\(row ${i + 1}\\) of`)), a)
      await choose(status.getByLabel(new RegExp(`^Value in B \\(row ${i + 1}\\) of`)), b)
    }

    await form.getByLabel('Create new entities in B').check()
    await form.getByLabel('Create new entities in A').uncheck()
    await choose(form.getByLabel('When both sides changed a field', { exact: true }), 'a_wins')
    await choose(form.getByLabel('Poll interval in seconds', { exact: true }), '5')
    // An incident deleted in the support desk closes its bug, with a comment.
    await choose(form.getByLabel('When an entity is deleted in A (E2E Support SUP)', { exact: true }), 'mark')
    await choose(form.getByLabel('Field to set when marking, in B (E2E Engineering ENG)', { exact: true }), 'status')
    await choose(form.getByLabel('Value to set when marking, in B (E2E Engineering ENG)', { exact: true }), 'closed')
    // The demo's own process runs every few seconds, and each run reloads
    // the processes page behind the form: wait for one, so that the form
    // is shown to keep what was typed through a reload.
    await until('a run of the demo process while the form is open', () =>
      page.evaluate(async (since) => {
        const r = await window.go.bridge.App.Call('processes.list', {})
        return (r.processes ?? []).some((s) => s.lastRun?.endedAt && Date.parse(s.lastRun.endedAt) > since)
      }, opened),
    )
    await tallShot('process-editor')
    // Name the cause if the form lost what was typed (rather than the
    // agent's "is required" for every field after the save).
    const kept = await form.getByLabel('Name', { exact: true }).inputValue()
    if (kept !== processName) throw new Error(`the new process's form was reset while it was filled in (Name is now "${kept}")`)

    await button('Create process').click()
    await page.getByRole('heading', { level: 1 }).filter({ hasText: processName }).waitFor()
  }, ['the support desk has incidents', 'create two sandbox systems and test their connections'])

  await step('activate the new process', async () => {
    await button('Activate').click()
    await button('Deactivate').waitFor()
    await button('Run now').click()
    await shot('process')
  }, ['create a sync process in the editor'])

  await step('its entity pairs appear', async () => {
    // The list refreshes itself when a run finishes.
    await button('Back').click()
    const row = page.getByRole('row').filter({ hasText: processName })
    await until(`${incidents.length} pairs of ${processName} in the process list`, async () => (await row.locator('td').nth(4).innerText()).trim() === String(incidents.length))
    await shot('processes-synced')

    await go('pairs')
    await page.getByLabel('Sync process', { exact: true }).selectOption({ label: processName })
    for (const i of incidents) await page.getByRole('row').filter({ hasText: i.title }).filter({ hasText: /ENG-\d+/ }).waitFor()
    const rows = await page.locator('main table tbody tr').count()
    if (rows !== incidents.length) throw new Error(`the pairs page shows ${rows} pairs of ${processName}, want ${incidents.length}`)
    await shot('pairs')

    // A pair's page: both sides by name and key, its state and fields.
    await page.locator('main table tbody tr').first().locator('a').first().click()
    await page.getByRole('heading', { level: 1 }).filter({ hasText: /SUP-\d+ ↔ ENG-\d+/ }).waitFor()
    await page.getByRole('region', { name: /E2E Support SUP/ }).waitFor()
    await page.getByText('In step').first().waitFor()
    pairRoute = (await page.evaluate(() => window.location.hash)).replace(/^#\//, '')
    await shot('pair')

    // What reached the engineering project went through the value map.
    const { items } = await sandbox('GET', '/api/items?project=ENG&limit=100')
    for (const i of incidents) {
      const bug = items.find((it) => it.title === i.title)
      if (!bug) throw new Error(`no bug in ENG titled ${i.title}`)
      const want = Object.fromEntries(statusMap)[i.status]
      if (bug.type !== 'bug' || bug.status !== want || bug.priority !== i.priority) {
        throw new Error(`${bug.key} is a ${bug.type} ${bug.status}/${bug.priority}, want a bug ${want}/${i.priority}`)
      }
    }
  }, ['activate the new process'])

  await step('runs and errors', async () => {
    await go('runs')
    await page.getByLabel('Sync process', { exact: true }).selectOption({ label: processName })
    await page.locator('main table tbody tr').first().waitFor()
    await shot('runs')
    await go('errors')
    await shot('errors')
  }, ['activate the new process'])

  await pairsJourney({
    page, step, go, button, shot, tallShot, choose, sandbox, until, atSmallWindow,
    harnessURL, incidents, processName,
    processReady: 'its entity pairs appear',
    systemsReady: 'create two sandbox systems and test their connections',
  })

  await step('follow live logs while an incident syncs', async () => {
    await go('logs')
    await page.getByTestId('log-row').first().waitFor()
    await page.getByLabel('Level').selectOption('info')
    const title = 'E2E live: printer prints blank pages'
    await page.getByLabel('Search', { exact: true }).fill('E2E live')
    // Raised after the page follows the log, so its line arrives live.
    await sandbox('POST', '/api/items', { project: 'SUP', type: 'incident', title, status: 'new', priority: 'medium' })
    await page.getByTestId('log-row').filter({ hasText: 'created peer entity' }).filter({ hasText: title }).waitFor({ timeout: 60_000 })
    await shot('logs')
  }, ['activate the new process'])

  // The list draws only the rows in view and reuses their elements: a line
  // in focus keeps it (and a screen reader's place) while the list scrolls
  // by the wheel or the keyboard. Lines are given to the page as the bridge
  // gives them (logs:batch on its subscription), enough to scroll.
  await step('a log line in focus keeps the focus while the list scrolls', async () => {
    await page.evaluate(() => {
      window.__logSubs = new Set()
      window.runtime.EventsOn('logs:batch', (b) => b?.sub && window.__logSubs.add(b.sub))
    })
    await go('processes')
    await go('logs')
    await page.waitForFunction(() => window.__logSubs.size > 0)
    await page.evaluate(() => {
      for (const sub of window.__logSubs) {
        for (let k = 0; k < 10; k++) {
          const lines = []
          for (let i = 0; i < 200; i++) {
            const n = k * 200 + i
            lines.push({ time: new Date(Date.UTC(2027, 0, 1) + n).toISOString(), level: 'info', component: 'e2e', message: `E2E focus line ${n}`, fields: {} })
          }
          window.runtime.EventsEmit('logs:batch', { sub, profile: 'agent', lines, dropped: 0 })
        }
      }
    })
    const list = page.getByRole('log', { name: 'Log lines' })
    const chosen = 'E2E focus line 1990'
    await page.getByTestId('log-row').filter({ hasText: chosen }).click()
    const focusOn = (what) =>
      page.waitForFunction((t) => document.activeElement?.textContent?.includes(t) && document.activeElement?.getAttribute('data-testid') === 'log-row', chosen).catch(async () => {
        throw new Error(`after ${what} the focus is on ${await page.evaluate(() => document.activeElement?.textContent?.slice(0, 80))}`)
      })
    await focusOn('a click')
    const top = () => list.evaluate((el) => el.scrollTop)
    const before = await top()
    await list.hover()
    await page.mouse.wheel(0, -6000)
    await page.waitForFunction((t) => document.querySelector('[role="log"]').scrollTop < t - 3000, before)
    // Its row is out of view now, below the rows drawn for other lines.
    const outOfView = await list.evaluate((el, t) => {
      const row = [...el.querySelectorAll('[data-testid="log-row"]')].find((r) => r.textContent.includes(t))
      return row ? row.offsetTop >= el.scrollTop + el.clientHeight : 'not drawn'
    }, chosen)
    if (outOfView !== true) throw new Error(`after scrolling up, the row of ${chosen} is ${outOfView === false ? 'still in view' : outOfView}`)
    await focusOn('scrolling by the wheel')
    const wheeled = await top()
    await page.keyboard.press('PageUp')
    await page.waitForFunction((t) => document.querySelector('[role="log"]').scrollTop < t, wheeled)
    await focusOn('PageUp')
    if ((await page.getByTestId('log-row').filter({ hasText: chosen }).count()) !== 1) throw new Error(`${chosen} is drawn other than once`)
  }, ['activate the new process'])

  // setToken replaces a system's API token through its form. The form tests
  // the connection before saving; a wrong token is saved only when asked.
  async function setToken(name, token, failing) {
    await go('systems')
    await systemRow(name).waitFor()
    await button(`Edit ${name}`).click()
    const form = page.getByRole('form', { name: /system$/ })
    await form.getByRole('button', { name: 'Replace API token' }).click()
    await form.getByLabel(/^API token/).fill(token)
    await form.getByRole('button', { name: 'Save changes' }).click()
    if (failing) {
      const said = page.getByTestId('save-test-failure')
      await said.waitFor()
      const text = await said.innerText()
      if (!text.includes(`${name} refused the credentials`)) throw new Error(`the failed test before saving says: ${text}`)
      await shot('systems-save-test-failed')
      await page.getByRole('button', { name: 'Save anyway' }).click()
    }
    await form.waitFor({ state: 'detached' })
  }
  const refused = 'E2E Engineering refused the credentials'
  // The health shown where a process or system is named (the page reloads
  // by itself on the agent's HealthChanged events).
  const processRow = () => page.locator('main table tbody tr').filter({ hasText: processName })

  await step('a wrong token makes the process and its system fail, in words, on every page', async () => {
    await setToken('E2E Engineering', 'e2e-wrong-token', true)
    // The process polls every 5 s: its next run fails as a whole.
    await go('processes')
    await processRow().filter({ hasText: 'Failing' }).filter({ hasText: refused }).waitFor({ timeout: 90_000 })
    await shot('processes-failing')

    await page.getByRole('button', { name: processName, exact: true }).click()
    const note = page.getByTestId('health-note').filter({ hasText: refused })
    await note.waitFor()
    if (!(await note.innerText()).includes('What to do')) throw new Error('the process page does not say what to do')
    await page.locator('main h1 [data-testid="health"][data-state="failing"]').waitFor()
    await shot('process-failing')

    await go('dashboard')
    await page.getByTestId('attention').getByText(`Process ${processName}: failing`).waitFor()
    await page.getByTestId('attention').filter({ hasText: refused }).waitFor()
    await shot('dashboard-failing')

    await go('systems')
    const row = systemRow('E2E Engineering')
    await row.filter({ hasText: 'Failing' }).filter({ hasText: 'API token: refused' }).waitFor()
    await shot('systems-failing')

    await go('errors')
    await page.getByTestId('process-failure').filter({ hasText: processName }).filter({ hasText: refused }).waitFor()
    if (await page.getByText('Every process runs and every entity is in step').count()) throw new Error('the Errors page says all is well')
    await shot('errors-failing')
  }, ['its entity pairs appear'])

  await step('fixing the token makes the process and the system healthy again', async () => {
    await setToken('E2E Engineering', sandboxToken, false)
    // The form's test of the token is kept as the system's last test, and
    // the process runs now (trigger "test"), not at its next poll.
    await systemRow('E2E Engineering').filter({ hasText: 'Healthy' }).filter({ hasText: 'OK · tested' }).waitFor()
    await go('processes')
    await processRow().filter({ hasText: 'Healthy' }).waitFor({ timeout: 90_000 })
    await go('systems')
    await systemRow('E2E Engineering').filter({ hasText: 'Healthy' }).filter({ hasText: 'API token: set' }).waitFor()
    await go('errors')
    await noLoading()
    if (await page.getByTestId('process-failure').filter({ hasText: processName }).count()) throw new Error('the Errors page still lists the process')
    await go('dashboard')
    await noLoading()
    if (await page.getByText(`Process ${processName}: failing`).count()) throw new Error('the dashboard still lists the process as failing')
    await shot('dashboard-recovered')
  }, ['a wrong token makes the process and its system fail, in words, on every page'])

  await step('the audit says the token was replaced, never what it is', async () => {
    await go('audit')
    await page.locator('.audit-change li').filter({ hasText: 'token: replaced' }).first().waitFor()
    if ((await page.content()).includes('e2e-wrong-token')) throw new Error('a token appears in the audit')
  }, ['a wrong token makes the process and its system fail, in words, on every page'])

  await systemFailingAlone({ page, step, go, button, systemRow, noLoading, shot, sandboxURL }, ['create two sandbox systems and test their connections'])

  await step('the agent goes away: the app says so, keeps what it showed and disables what cannot work', async () => {
    await go('processes')
    await processRow().waitFor()
    await button('New process').first().waitFor()
    const pid = Number(readFileSync(agentPidFile, 'utf8').trim())
    process.kill(pid, 'SIGKILL')
    await page.getByTestId('offline').waitFor({ timeout: 60_000 })
    await page.getByTestId('conn-state').filter({ hasText: 'lost' }).waitFor()
    // The list loaded before stays, marked stale; creating is disabled.
    await processRow().waitFor()
    if (await button('New process').first().isEnabled()) throw new Error('New process is enabled while the agent is unreachable')
    await shot('processes-offline')
    // A page opened now says at once, with no spinner, that the agent is
    // unreachable; one opened before shows what it showed last, under the banner.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click()
    await page.getByText('The agent is unreachable; this loads by itself when it is back.').first().waitFor()
    if (await page.locator('main .loading').count()) throw new Error('the accounts page spins while the agent is unreachable')
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click()
    await page.locator('main h1').first().waitFor()
    await page.getByTestId('host-info').waitFor()
    await page.getByTestId('offline').waitFor()
    if (await page.locator('main .loading').count()) throw new Error('the dashboard spins while the agent is unreachable')
    await shot('dashboard-offline')
  }, ['its entity pairs appear'])

  await step('the agent comes back: the app recovers by itself', async () => {
    const out = openSync(join(dirname(agentPidFile), 'agent-restarted.out'), 'a')
    const child = spawn(agentBin, ['demo', '--data-dir', agentData, '--listen', agentAddr, '--admin-password-file', agentPasswordFile], { stdio: ['ignore', out, out], detached: false })
    writeFileSync(agentPidFile, String(child.pid))
    child.unref()
    // The desktop reconnects and resumes its session with no click.
    await page.getByTestId('conn-state').filter({ hasText: 'Connected to demo' }).waitFor({ timeout: 120_000 })
    await page.getByTestId('offline').waitFor({ state: 'detached' })
    await page.getByTestId('host-info').waitFor({ timeout: 60_000 })
    await go('processes')
    await processRow().waitFor()
    if (!(await button('New process').first().isEnabled())) throw new Error('New process stays disabled after the agent is back')
    await shot('processes-recovered')
  }, ['the agent goes away: the app says so, keeps what it showed and disables what cannot work'])

  await fleetJourney({
    page, step, go, button, shot, choose, setToken, processRow,
    adminUser, adminPassword, sandboxURL, sandboxToken, processName,
    agent2Addr, agent2Fingerprint,
    processReady: 'its entity pairs appear',
  })

  await step('audit, accounts, license, settings', async () => {
    await go('audit')
    await page.locator('main table tbody tr').first().waitFor()
    // Changes read as field: old → new within the page, never as JSON.
    await page.locator('.audit-change li').filter({ hasText: 'active: false → true' }).first().waitFor()
    await fitsWidth(page.locator('main .table-wrap'), 'the audit table')
    const changes = await page.locator('.audit-change').allInnerTexts()
    if (changes.some((t) => t.includes('\\"'))) throw new Error('the audit shows escaped JSON')
    await shot('audit')
    await go('accounts')
    await page.getByRole('combobox', { name: `Role of ${adminUser}` }).waitFor()
    await shot('accounts')
    await go('license')
    await page.getByTestId('license').waitFor()
    await shot('license')
    await go('settings')
    await page.getByTestId('telemetry-preview').filter({ hasText: '{' }).waitFor()
    // The metrics token: typed once, saved write-only, and what Prometheus
    // then presents to the agent's /metrics.
    const metricsToken = `e2e-metrics-${Date.now().toString(16)}-token`
    const agentSettings = page.locator('section[aria-labelledby="agent-settings"]')
    if (await agentSettings.getByRole('button', { name: 'Replace Metrics token' }).count()) await agentSettings.getByRole('button', { name: 'Replace Metrics token' }).click()
    await agentSettings.getByLabel(/^Metrics token/).fill(metricsToken)
    await agentSettings.getByRole('button', { name: 'Save settings' }).click()
    await agentSettings.getByRole('button', { name: 'Replace Metrics token' }).waitFor()
    if ((await page.content()).includes(metricsToken)) throw new Error('the settings page shows the metrics token')
    const scraped = await metricsStatus(metricsToken)
    if (scraped !== 200) throw new Error(`GET /metrics with the token set on the page answered ${scraped}`)
    await shot('settings')
  })

  await step('download a support package', async () => {
    await go('support')
    await button('Create support package').click()
    await page.getByTestId('support-sha').waitFor({ timeout: 60_000 })
    await spaced(page.getByTestId('support-sha'), button('Save package…'), 8, 'the SHA-256 and the save button')
    await button('Save package…').click()
    await page.getByTestId('support-saved').waitFor({ timeout: 60_000 })
    await spaced(button('Save package…'), page.getByTestId('support-saved'), 8, 'the save button and what was saved')
    await shot('support')
  })

  await step('dark theme', async () => {
    await go('dashboard')
    // System -> Light -> Dark.
    await page.getByRole('button', { name: /Change theme/ }).click()
    await page.getByRole('button', { name: /Change theme/ }).click()
    await page.getByTestId('host-info').waitFor()
    await shot('dashboard-dark')
  })

  const sidebarRoutes = async () =>
    (await page.getByRole('navigation', { name: 'Main' }).getByRole('link').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).map((h) => h.replace(/^#\//, ''))
  const setTheme = async (theme) => {
    await page.evaluate((t) => localStorage.setItem('lockstep.theme', t), theme)
    await page.reload()
    await page.getByTestId('session-user').waitFor()
  }

  await legibleAtSmallWindow({ page, step, go, noLoading }, ['activate the new process'])

  await step('every page at 1024x700 and 1920x1080, none scrolling sideways at 1024 wide', async () => {
    const routes = [...(await sidebarRoutes()), ...(pairRoute ? [pairRoute] : [])]
    const wide = []
    for (const [w, h] of [
      [1024, 700],
      [1920, 1080],
    ]) {
      await page.setViewportSize({ width: w, height: h })
      for (const route of routes) {
        await go(route)
        await noLoading()
        if (w === 1024) {
          const over = await overflows()
          if (over.length) wide.push(`${route}: ${over.join('; ')}`)
        }
        n++
        await page.screenshot({ path: join(shots, `${String(n).padStart(2, '0')}-${w}x${h}-${route.replace(/[^a-z0-9]+/gi, '-')}.png`) })
      }
    }
    await page.setViewportSize({ width: 1360, height: 860 })
    if (wide.length) throw new Error(`horizontal scroll at 1024x700:\n  ${wide.join('\n  ')}`)
  })

  await step('no serious or critical accessibility violations on any page, in either theme', async () => {
    const routes = [...(await sidebarRoutes()), ...(pairRoute ? [pairRoute] : [])]
    const found = []
    for (const theme of ['light', 'dark']) {
      await setTheme(theme)
      for (const route of routes) {
        await go(route)
        await noLoading()
        found.push(...(await seriousViolations(`${theme} ${route}`)))
      }
    }
    await setTheme('light')
    if (found.length) throw new Error(`accessibility violations:\n  ${found.join('\n  ')}`)
  })

  await step('every page of the sidebar has a screenshot', async () => {
    const links = await page.getByRole('navigation', { name: 'Main' }).getByRole('link').evaluateAll((as) => as.map((a) => a.getAttribute('href')))
    if (links.length < 13) throw new Error(`the sidebar lists only ${links.length} pages: ${links.join(', ')}`)
    const missing = links.filter((l) => !shown.has(l))
    if (missing.length) throw new Error(`no screenshot of ${missing.join(', ')}`)
  })
} finally {
  await context.close()
  rmSync(profileDir, { recursive: true, force: true })
}

if (consoleErrors.length) console.log(`page errors:\n${consoleErrors.join('\n')}`)
console.log(`screenshots in ${shots}`)
if (failures.length || consoleErrors.length) {
  console.log(`e2e: ${failures.length} step(s) failed: ${failures.join(', ')}`)
  process.exit(1)
}
console.log('e2e: all steps passed')
