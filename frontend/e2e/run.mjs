// End-to-end journey through the real UI: the built frontend served by the
// browser-test harness (desktop/cmd/lockstep-harness) with the real Go bridge,
// talking to a real `lockstep-agent demo`. Start it with build/ui-test.sh
// (make ui-test), which exports the variables read below.
//
// Headless system Chromium through playwright-core; no browser is ever
// downloaded. Screenshots of every page go to build/artifacts/ui/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

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
async function step(name, fn) {
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
async function shot(name) {
  n++
  const file = join(shots, `${String(n).padStart(2, '0')}-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`)
  await page.screenshot({ path: file, fullPage: false }).catch(() => {})
}
const go = async (route) => {
  await page.goto(new URL(`#/${route}`, harnessURL).toString())
  await page.locator('main h1').first().waitFor()
}
const button = (name) => page.getByRole('button', { name, exact: true })

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

  await step('dashboard', async () => {
    await go('dashboard')
    await page.getByTestId('host-info').waitFor()
    await page.getByTestId('processes-count').waitFor()
    await shot('dashboard')
  })

  await step('create a sandbox system and test it', async () => {
    await go('systems')
    await page.locator('table').waitFor()
    // The demo's sandbox server: reuse its address for the new system.
    const url = (await page.locator('table tbody tr td .mono').first().innerText()).trim()
    await button('Add system').first().click()
    await page.getByRole('dialog').getByLabel('Kind of system').selectOption('sandbox')
    await page.getByRole('dialog').getByRole('button', { name: 'Continue' }).click()
    const form = page.getByRole('form', { name: /system$/ })
    await form.getByLabel(/^Name/).fill('E2E sandbox')
    await form.getByLabel(/^URL/).fill(url)
    await form.getByLabel(/^Project/).fill('E2E')
    await form.getByLabel(/^API token/).fill('e2e-token-not-shown')
    await form.getByRole('button', { name: 'Create system' }).click()
    await page.getByRole('cell', { name: 'E2E sandbox', exact: true }).waitFor()
    if ((await page.content()).includes('e2e-token-not-shown')) throw new Error('a secret appears in the page')
    await button('Test connection to E2E sandbox').click()
    await page.getByText(/ms$/).first().waitFor()
    await shot('systems')
  })

  await step('activate a sync process', async () => {
    await go('processes')
    await shot('processes')
    // The demo created one process; open it and activate it.
    await page.locator('main table tbody tr').first().click()
    const activate = button('Activate')
    if (await activate.isVisible().catch(() => false)) await activate.click()
    await button('Deactivate').waitFor()
    const run = button('Run now')
    if (await run.isVisible().catch(() => false)) await run.click()
    await shot('process')
  })

  await step('entity pairs appear', async () => {
    await go('pairs')
    await page.locator('main table tbody tr').first().waitFor({ timeout: 60_000 })
    await shot('pairs')
  })

  await step('runs and errors', async () => {
    await go('runs')
    await shot('runs')
    await go('errors')
    await shot('errors')
  })

  await step('follow live logs', async () => {
    await go('logs')
    await page.getByTestId('log-row').first().waitFor()
    await page.getByLabel('Level').selectOption('info')
    await shot('logs')
  })

  await step('audit, accounts, license, settings', async () => {
    await go('audit')
    await page.locator('main table tbody tr').first().waitFor()
    await shot('audit')
    await go('accounts')
    await page.getByRole('combobox', { name: `Role of ${adminUser}` }).waitFor()
    await shot('accounts')
    await go('license')
    await page.getByTestId('license').waitFor()
    await shot('license')
    await go('settings')
    await page.getByTestId('telemetry-preview').filter({ hasText: '{' }).waitFor()
    await shot('settings')
  })

  await step('download a support package', async () => {
    await go('support')
    await button('Create support package').click()
    await page.getByTestId('support-sha').waitFor({ timeout: 60_000 })
    await button('Save package…').click()
    await page.getByTestId('support-saved').waitFor({ timeout: 60_000 })
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
