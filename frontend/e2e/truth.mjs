// Journey steps for what the desktop must say truthfully and legibly: a
// system that fails on its own is named where an administrator looks for
// trouble, and what the small window shows reads well (chart labels,
// dates, the audit's filters, the skip link). run.mjs calls them with its
// helpers; each step is one of run.mjs's steps.

// systemFailingAlone: a system whose connection test fails, used by no
// process, is listed on the Errors page and the dashboard with the reason
// in words, and, created anyway, says so and that nobody is notified;
// deleting it clears both.
export async function systemFailingAlone({ page, step, go, button, systemRow, noLoading, shot, sandboxURL }, needs) {
  const name = 'E2E Archive'
  const refused = `${name} refused the credentials`
  await step('a system whose connection test fails is listed on the Errors page and the dashboard, though no process uses it', async () => {
    await go('systems')
    await button('Add system').first().click()
    await page.getByRole('dialog').getByLabel('Kind of system').selectOption('sandbox')
    await page.getByRole('dialog').getByRole('button', { name: 'Continue' }).click()
    const form = page.getByRole('form', { name: /system$/ })
    await form.getByLabel(/^Name/).fill(name)
    await form.getByLabel(/^URL/).fill(sandboxURL)
    await form.getByLabel(/^Project/).fill('ENG')
    await form.getByLabel(/^API token/).fill('e2e-archive-wrong-token')
    await form.getByRole('button', { name: 'Create system' }).click()
    const said = page.getByTestId('save-test-failure')
    await said.waitFor()
    if (!(await said.innerText()).includes(refused)) throw new Error(`the failed test before creating says: ${await said.innerText()}`)
    await button('Create anyway').click()
    await form.waitFor({ state: 'detached' })
    await systemRow(name).filter({ hasText: 'Failing' }).filter({ hasText: 'API token: refused' }).waitFor()
    // Created anyway by the account that saw its test fail: it says so, and
    // why no notification comes for it.
    const acked = 'Saved despite a failing connection test by '
    await systemRow(name).getByTestId('health-acknowledged').filter({ hasText: acked }).waitFor()

    await go('errors')
    const listed = page.getByTestId('system-failure').filter({ hasText: `${name}: failing` })
    await listed.filter({ hasText: refused }).waitFor()
    if (!(await listed.innerText()).includes('What to do')) throw new Error('the Errors page does not say what to do about the system')
    if (!(await listed.innerText()).includes(acked)) throw new Error(`the Errors page does not say ${name} was saved despite its failing test: ${await listed.innerText()}`)
    if (await page.getByText('Every process runs and every entity is in step').count()) throw new Error('the Errors page says all is well')
    await shot('errors-system-failing')

    await go('dashboard')
    await page.getByTestId('attention').getByText(`System ${name}: failing`).waitFor()
    await page.getByTestId('attention').filter({ hasText: refused }).waitFor()
    await shot('dashboard-system-failing')

    await go('systems')
    await button(`Delete ${name}`).click()
    await page.getByRole('dialog').getByRole('button', { name: 'Delete system' }).click()
    await systemRow(name).waitFor({ state: 'detached' })
    await go('errors')
    await noLoading()
    if (await page.getByTestId('system-failure').filter({ hasText: name }).count()) throw new Error(`the Errors page still lists ${name} after it was deleted`)
  }, needs)
}

// legibleAtSmallWindow: at 1024x700 the dashboard's chart labels are at
// least 10 px tall, a date in a table never breaks over lines, the audit's
// filters fit one row, and the skip link moves the focus to the page
// without leaving it.
export async function legibleAtSmallWindow({ page, step, go, noLoading }, needs) {
  await step('charts, dates, the audit filters and the skip link read well at 1024x700', async () => {
    const viewport = page.viewportSize()
    await page.setViewportSize({ width: 1024, height: 700 })
    try {
      await go('dashboard')
      await noLoading()
      const labels = await page.locator('svg.chart text').evaluateAll((ts) => ts.map((t) => t.getBoundingClientRect().height))
      if (labels.length === 0) throw new Error('the dashboard shows no chart labels')
      if (Math.min(...labels) < 10) throw new Error(`the dashboard's chart labels are ${Math.min(...labels).toFixed(1)} px tall, want at least 10`)

      // A moment broken over lines has more than one line box.
      for (const route of ['audit', 'runs', 'processes', 'accounts', 'pairs']) {
        await go(route)
        await noLoading()
        await page.locator('main table').first().waitFor()
        const broken = await page.locator('main table .datetime').evaluateAll((ds) => ds.filter((d) => d.getClientRects().length > 1).map((d) => d.textContent))
        const shown = await page.locator('main table .datetime').count()
        if (shown === 0) throw new Error(`the ${route} table shows no dates`)
        if (broken.length) throw new Error(`dates break over lines in the ${route} table: ${broken.slice(0, 3).join(', ')}`)
      }

      await go('audit')
      const bottoms = await page.locator('form[aria-label="Audit filters"] > *').evaluateAll((els) => els.map((el) => el.getBoundingClientRect().bottom))
      if (Math.max(...bottoms) - Math.min(...bottoms) > 4) throw new Error(`the audit's filters wrap onto ${new Set(bottoms.map(Math.round)).size} rows`)

      // The skip link: first in the tab order, it focuses the page and
      // stays on it (with hash routes, a plain link opened another page).
      await go('errors')
      // A fresh load, so the tab order starts at the top of the document.
      await page.reload()
      await page.locator('main h1').first().waitFor()
      await page.keyboard.press('Tab')
      const first = await page.evaluate(() => document.activeElement?.textContent ?? '')
      if (first !== 'Skip to content') throw new Error(`the first stop of the tab order is "${first}", not the skip link`)
      await page.keyboard.press('Enter')
      const after = await page.evaluate(() => ({ hash: window.location.hash, focus: document.activeElement?.id ?? '' }))
      if (after.hash !== '#/errors' || after.focus !== 'main-content') throw new Error(`the skip link went to ${after.hash} with the focus on "${after.focus}"`)
    } finally {
      await page.setViewportSize(viewport)
    }
  }, needs)
}
