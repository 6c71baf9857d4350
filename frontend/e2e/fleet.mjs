// The fleet part of the UI journey (run.mjs calls fleetJourney): a second
// real agent joins, the fleet view shows both, switching between them asks
// for no new sign-in, and a process is copied from the first agent to the
// second with its two systems, whose secrets are typed again; the copy
// arrives inactive and reads so (not healthy) on that agent and in the
// fleet. Then a failure on the second agent, while the first is current, is
// one notice that clears by itself and leads to the second agent's row.
//
// The second agent is started by build/ui-test.sh (`init` and `run`, no
// processes, the same admin password as the demo agent).

// fleetJourney runs the fleet's steps on the journey's page. j carries the
// journey's helpers and facts:
//   page, step, go, button, shot, choose, setToken, processRow,
//   adminUser, adminPassword, sandboxURL, sandboxToken, processName,
//   agent2Addr, agent2Fingerprint,
//   processReady: the name of the step after which the demo agent has the
//                 journey's process and its two systems.
export async function fleetJourney(j) {
  const { page, step, go, button, shot, choose, setToken, processRow } = j
  const branch = 'branch'
  const added = 'add a second agent and sign in to it'
  const fleetShown = 'the fleet view shows both agents, the one needing attention first, and what each says'

  // fleetRow is an agent's row in the fleet table.
  const fleetRow = (name) => page.locator('main tbody tr').filter({ has: page.locator(`[data-testid="fleet-agent"][data-agent="${name}"]`) })
  // switchTo picks the current agent in the header and waits until the
  // shell shows it signed in.
  // openedOn waits until an agent opened from the fleet shows its
  // dashboard, where Open leads: a page asked for before that is replaced
  // by the dashboard when it arrives.
  const openedOn = async (name) => {
    await page.getByTestId('conn-state').filter({ hasText: `Connected to ${name}` }).waitFor()
    await page.locator('main h1', { hasText: /^Dashboard$/ }).waitFor()
    await page.getByTestId('session-user').waitFor()
  }
  const switchTo = async (name) => {
    await page.getByRole('combobox', { name: 'Current agent' }).selectOption(name)
    await page.getByTestId('conn-state').filter({ hasText: `Connected to ${name}` }).waitFor()
    await page.getByTestId('session-user').waitFor()
  }
  const noSignInAsked = async (name) => {
    if (await page.getByLabel('Password').count()) throw new Error(`${name} asked for a sign-in again`)
  }

  await step(added, async () => {
    await go('agents')
    await button('Add agent').click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Name').fill(branch)
    await dialog.getByLabel('Agent URL').fill(j.agent2Addr)
    await dialog.getByRole('button', { name: 'Fetch fingerprint' }).click()
    const shown = (await dialog.getByTestId('fingerprint').innerText()).replace(/\s+/g, '')
    if (shown !== j.agent2Fingerprint) throw new Error(`fingerprint shown ${shown} differs from the second agent's ${j.agent2Fingerprint}`)
    await dialog.getByLabel(/I compared it/).check()
    await dialog.getByRole('button', { name: 'Pin fingerprint and connect' }).click()
    await page.getByLabel('Password').waitFor()
    await page.getByLabel('Username').fill(j.adminUser)
    await page.getByLabel('Password').fill(j.adminPassword)
    await button('Sign in').click()
    await page.getByTestId('conn-state').filter({ hasText: `Connected to ${branch}` }).waitFor()
    // The first agent stayed connected and signed in meanwhile.
    await go('agents')
    for (const name of ['demo', branch]) {
      await page
        .locator('.agent-row')
        .filter({ has: page.getByRole('heading', { name, exact: true }) })
        .getByTestId('agent-state')
        .filter({ hasText: `Connected, signed in as ${j.adminUser}` })
        .waitFor()
    }
    await shot('agents-two')
  })

  await step(
    fleetShown,
    async () => {
      await go('fleet')
      for (const name of ['demo', branch]) {
        const row = fleetRow(name)
        await row.getByTestId('fleet-state').filter({ hasText: `Signed in as ${j.adminUser}` }).waitFor()
        await row.getByTestId('fleet-version').filter({ hasText: /^version \S+/ }).waitFor()
        await row.getByTestId('fleet-license').waitFor()
      }
      await fleetRow('demo').getByTestId('fleet-processes').filter({ hasText: /\b([2-9]|\d\d+) processes/ }).waitFor()
      await fleetRow(branch).getByTestId('fleet-processes').filter({ hasText: '0 processes' }).waitFor()
      const levels = await page.getByTestId('fleet-agent').evaluateAll((els) => els.map((e) => [e.dataset.agent, Number(e.dataset.level)]))
      for (let i = 1; i < levels.length; i++) {
        if (levels[i][1] < levels[i - 1][1]) throw new Error(`the fleet is not sorted by attention: ${JSON.stringify(levels)}`)
      }
      // The demo agent's runs change items every few seconds: its
      // notifications arrive here, saying where they came from.
      await page.locator('[data-testid="fleet-notice"][data-agent="demo"]').first().waitFor({ timeout: 60_000 })
      await shot('fleet')
    },
    [added],
  )

  await step(
    'switching between agents keeps each session',
    async () => {
      await go('processes')
      for (const name of ['demo', branch, 'demo', branch]) {
        await switchTo(name)
        if (name === 'demo') await processRow().waitFor()
        else await page.getByRole('heading', { name: 'No sync processes yet' }).waitFor()
        await noSignInAsked(name)
      }
    },
    [added],
  )

  const copied = 'copy a process from one agent to the other, its systems with their secrets typed again'
  await step(
    copied,
    async () => {
      await go('fleet')
      const startCopy = async () => {
        await button('Copy a process…').click()
        const dialog = page.getByRole('dialog')
        await dialog.getByLabel('From agent').selectOption('demo')
        await dialog.getByLabel('To agent').selectOption(branch)
        await choose(dialog.getByLabel('Process', { exact: true }), j.processName)
        await dialog.getByRole('button', { name: 'Continue' }).click()
        await dialog.getByTestId('copy-plan').waitFor()
        return dialog
      }
      let dialog = await startCopy()
      // The second agent has neither system: the plan says so and the copy
      // cannot start.
      await dialog.getByText(`${branch} lacks E2E Support and E2E Engineering`).waitFor()
      if (await dialog.getByRole('button', { name: 'Copy process' }).isEnabled()) throw new Error('the copy may start while the target lacks its systems')
      await shot('fleet-copy-plan')
      // E2E Engineering goes over with a wrong token: its connection test
      // from the second agent fails, and the fleet hears of it.
      for (const [name, token, side] of [
        ['E2E Support', j.sandboxToken, 'a'],
        ['E2E Engineering', 'e2e-wrong-branch-token', 'b'],
      ]) {
        await dialog.getByRole('button', { name: `Copy ${name} to ${branch}` }).click()
        const form = dialog.getByRole('form', { name: /system$/ })
        if ((await form.getByLabel(/^Name/).inputValue()) !== name) throw new Error(`the copy of ${name} is not named after it`)
        if ((await form.getByLabel(/^URL/).inputValue()) !== j.sandboxURL) throw new Error(`the copy of ${name} has another address`)
        const secret = form.getByLabel(/^API token/)
        if ((await secret.inputValue()) !== '') throw new Error('a secret was filled in from the source agent')
        await secret.fill(token)
        if (side === 'b') await shot('fleet-copy-system')
        await form.getByRole('button', { name: `Copy to ${branch}` }).click()
        const said = side === 'a' ? `Copied ${name} to ${branch}` : `Copied ${name} to ${branch}, but its connection test did not pass`
        await dialog.getByText(said, { exact: true }).waitFor()
        await dialog.getByTestId(`copy-side-${side}`).filter({ hasText: `on ${branch}` }).waitFor()
      }
      if ((await page.content()).includes(j.sandboxToken)) throw new Error('a secret appears in the page')
      await dialog.getByRole('button', { name: 'Close' }).click()
      await page.locator(`[data-testid="fleet-notice"][data-agent="${branch}"]`).filter({ hasText: 'E2E Engineering' }).first().waitFor({ timeout: 60_000 })

      // Fixed on the second agent's own Systems page, then the process goes over.
      await fleetRow(branch).getByRole('button', { name: `Open ${branch}` }).click()
      await openedOn(branch)
      await setToken('E2E Engineering', j.sandboxToken, false)
      await go('fleet')
      dialog = await startCopy()
      await dialog.getByTestId('copy-side-a').filter({ hasText: `on ${branch}` }).waitFor()
      await dialog.getByTestId('copy-side-b').filter({ hasText: `on ${branch}` }).waitFor()
      await dialog.getByRole('button', { name: 'Copy process' }).click()
      await dialog.getByText(`Copied ${j.processName} on ${branch}`).waitFor()
      await shot('fleet-copied')
      await dialog.getByRole('button', { name: `Open ${branch}` }).click()
      await openedOn(branch)
      await go('processes')
      // The copy arrived inactive, under its name, on the second agent,
      // and reads as inactive there and in the fleet: not healthy, not
      // failing (the agent's processes.list says so too).
      await processRow().filter({ hasText: 'Inactive' }).waitFor()
      if (await processRow().getByTestId('health').count()) throw new Error(`the inactive copy shows a health: ${await processRow().innerText()}`)
      const health = await page.evaluate(async (name) => {
        const { processes } = await window.go.bridge.App.Call('processes.list', {})
        return (processes ?? []).find((s) => s.process.name === name)?.health?.state
      }, j.processName)
      if (health !== 'inactive') throw new Error(`${branch}'s processes.list says the inactive copy is ${health}`)
      await noSignInAsked(branch)
      await go('fleet')
      const procs = fleetRow(branch).getByTestId('fleet-processes')
      await procs.filter({ hasText: '1 inactive' }).waitFor()
      if (/healthy|failing/.test(await procs.innerText())) throw new Error(`the fleet says of ${branch}'s inactive copy: ${await procs.innerText()}`)
      await shot('fleet-inactive-copy')
    },
    [fleetShown, j.processReady],
  )

  const backToDemo = 'back to the demo agent'
  await step(
    backToDemo,
    async () => {
      await go('dashboard')
      await switchTo('demo')
      await page.getByTestId('host-info').waitFor()
      await noSignInAsked('demo')
    },
    [added],
  )

  // With many agents, another agent's failures are one notice per agent
  // that clears by itself and leads to its row, not errors to dismiss one
  // by one. Working on demo, the second agent's system starts failing.
  await step(
    "another agent's failure is one notice in the corner that clears by itself and leads to its row",
    async () => {
      const onBranch = (method, params) => page.evaluate(([m, p]) => window.go.bridge.App.CallAgent('branch', m, p), [method, params])
      const { systems } = await onBranch('systems.list', {})
      const eng = (systems ?? []).find((s) => s.name === 'E2E Engineering')
      if (!eng) throw new Error(`${branch} has no E2E Engineering`)
      await page.getByTestId('conn-state').filter({ hasText: 'Connected to demo' }).waitFor()
      const toast = page.locator('.toast').filter({ hasText: `${branch}: System E2E Engineering: failing` })
      // Watched for from before it can come, as it goes by itself.
      const seen = toast.getByRole('link', { name: `See ${branch} in the fleet` }).waitFor({ timeout: 60_000 })
      // A passing test first: whatever the system's health was, the
      // failing one after it is news.
      await onBranch('systems.update', { id: eng.id, secrets: { token: j.sandboxToken } })
      const passed = await onBranch('systems.test', { id: eng.id })
      if (!passed?.ok) throw new Error(`${branch}'s E2E Engineering does not pass its test with the right token: ${passed?.message}`)
      await onBranch('systems.update', { id: eng.id, secrets: { token: 'e2e-wrong-branch-token' } })
      await onBranch('systems.test', { id: eng.id })
      try {
        await seen
      } catch (e) {
        // Did the fleet hear of it at all? Its page lists what each agent said.
        await go('fleet')
        const heard = await page.locator(`[data-testid="fleet-notice"][data-agent="${branch}"]`).allInnerTexts()
        const health = (await onBranch('systems.list', {})).systems?.find((s) => s.id === eng.id)?.health
        throw new Error(`${e.message}; ${branch}'s E2E Engineering is ${JSON.stringify(health)}; the fleet page lists of ${branch}: ${JSON.stringify(heard.slice(0, 5))}`)
      }
      const href = await toast.getByRole('link').getAttribute('href', { timeout: 1000 }).catch(() => null)
      if (href !== null && href !== `#/fleet/${branch}`) throw new Error(`the notice leads to ${href}`)
      // Not sticky: it goes by itself.
      await toast.waitFor({ state: 'detached', timeout: 30_000 })
      await go(`fleet/${branch}`)
      await page.locator(`[data-testid="fleet-agent"][data-agent="${branch}"][data-pointed]`).waitFor()
      // The page focuses the row once it is drawn (an effect after the mark).
      await page.waitForFunction((name) => document.activeElement?.getAttribute('data-agent') === name, branch).catch(async () => {
        const focused = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))
        throw new Error(`the row the notice leads to is not focused (the focus is on ${focused})`)
      })
      await shot('fleet-pointed')
      await onBranch('systems.update', { id: eng.id, secrets: { token: j.sandboxToken } })
      await onBranch('systems.test', { id: eng.id })
    },
    [copied, backToDemo],
  )
}
