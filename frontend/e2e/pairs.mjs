// The pair lifecycle part of the UI journey (run.mjs calls pairsJourney),
// taken by hand after the journey's first process has synced: a deleted
// incident's pair and its ways out; items that exist on both sides adopted
// (a dry run matching titles, then a CSV of keys) and synced without a copy
// twice, with the process's queue shown; a conflict held for review,
// resolved field by field after the confirmation says which value goes.

// pairsJourney runs those steps on the journey's page. j carries the
// journey's helpers and facts:
//   page, step, go, button, shot, tallShot, choose, sandbox, until,
//   atSmallWindow, harnessURL, incidents, processName,
//   processReady: the step after which the first process has its pairs
//                 (and marks a bug whose incident is deleted),
//   systemsReady: the step after which the systems E2E Support and
//                 E2E Engineering exist on the journey's sandbox.
export async function pairsJourney(j) {
  const { page, step, go, button, shot, tallShot, choose, sandbox, until, atSmallWindow, harnessURL, incidents, processName } = j
  // openNextFile makes the next native open dialog "choose" a file with this
  // content (the harness's stand-in for the dialog).
  async function openNextFile(name, content) {
    const r = await fetch(new URL('harness/open-file', harnessURL), { method: 'POST', body: JSON.stringify({ name, content }) })
    if (!r.ok) throw new Error(`harness open-file: ${r.status} ${await r.text()}`)
  }
  // newestRun is a process's latest run (or undefined), through the app's own bridge.
  const newestRun = (name) =>
    page.evaluate(async (name) => {
      const app = window.go.bridge.App
      const { processes } = await app.Call('processes.list', {})
      const s = (processes ?? []).find((x) => x.process.name === name)
      return s ? ((await app.Call('runs.list', { process: s.process.id, limit: 1 })).runs ?? [])[0] : undefined
    }, name)

  await step('a deleted incident closes its bug, and its pair says so in words and offers its ways out', async () => {
    const title = incidents[2].title
    const { items } = await sandbox('GET', '/api/items?project=SUP&limit=100')
    const incident = items.find((it) => it.title === title)
    await go('pairs')
    await page.getByLabel('Sync process', { exact: true }).selectOption({ label: processName })
    const row = page.locator('main table tbody tr').filter({ hasText: title })
    const bugKey = (await row.innerText()).match(/ENG-\d+/)?.[0]
    if (!bugKey) throw new Error(`no bug key in the pair of ${incident.key}`)
    await sandbox('DELETE', `/api/items/${incident.key}`)
    // The list follows the agent's events: no reload.
    await row.filter({ hasText: 'Deleted' }).filter({ hasText: `${incident.key} was deleted in E2E Support; ${bugKey} in E2E Engineering is marked` }).waitFor({ timeout: 60_000 })
    const bug = await sandbox('GET', `/api/items/${bugKey}`)
    if (bug.status !== 'closed') throw new Error(`${bugKey} is ${bug.status} after its incident was deleted, want closed`)
    const { comments } = await sandbox('GET', `/api/items/${bugKey}/comments`)
    if (!comments.some((c) => c.body.includes(`The linked item ${incident.key} in E2E Support was deleted.`))) throw new Error(`${bugKey} has no comment saying ${incident.key} was deleted`)
    await shot('pairs-deleted')
    const label = `Ways out for ${incident.key} ↔ ${bugKey}`
    await button(label).click()
    const dialog = page.getByRole('dialog', { name: label })
    // Dismissing the deletion keeps the bug and unpairs it.
    await dialog.getByRole('radio', { name: new RegExp(`^Keep ${bugKey}, unpair Dismisses the deletion`) }).check()
    await atSmallWindow('pairs-deleted-ways-out')
    await dialog.getByRole('button', { name: `Keep ${bugKey}, unpair`, exact: true }).click()
    await dialog.waitFor({ state: 'detached' })
    await row.waitFor({ state: 'detached' })
  }, [j.processReady])

  // Adoption: items that already exist on both sides, in projects of their
  // own, and a process over them that has not synced anything yet.
  const adoptName = 'E2E adopted incidents'
  const adoptA = ['printer jams', 'VPN drops', 'badge reader', 'badge reader', 'only in support'].map((t) => `E2E adopt: ${t}`)
  const adoptB = ['printer jams', 'VPN drops', 'badge reader', 'only in engineering'].map((t) => `E2E adopt: ${t}`)
  const keysA = []
  const keysB = []
  await step('items exist on both sides, and a process over them that has not paired them', async () => {
    await sandbox('POST', '/api/projects', { key: 'ADA', name: 'Adoption support', types: ['incident'] })
    await sandbox('POST', '/api/projects', { key: 'ADB', name: 'Adoption engineering', types: ['bug'] })
    for (const title of adoptA) keysA.push((await sandbox('POST', '/api/items', { project: 'ADA', type: 'incident', title, priority: 'medium' })).key)
    for (const title of adoptB) keysB.push((await sandbox('POST', '/api/items', { project: 'ADB', type: 'bug', title, priority: 'medium' })).key)
    // Set up through the API: the journey's editor step made the first process.
    await page.evaluate(async (name) => {
      const app = window.go.bridge.App
      const { systems } = await app.Call('systems.list', {})
      const id = (n) => systems.find((s) => s.name === n).id
      await app.Call('processes.create', {
        process: {
          name,
          a: { system: id('E2E Support'), project: 'ADA' },
          b: { system: id('E2E Engineering'), project: 'ADB' },
          types: [{ a: 'incident', b: 'bug', fields: [{ a: 'title', b: 'title', direction: 'both' }, { a: 'priority', b: 'priority', direction: 'both' }] }],
          options: { createInA: false, createInB: true, comments: true, attachments: true, writePeerKey: true, conflict: 'hold' },
          schedule: { pollSeconds: 5 },
          active: false,
        },
      })
    }, adoptName)
  }, [j.systemsReady])

  await step('adopt existing pairs: a dry run matching titles, then adopt; one more from a CSV file', async () => {
    await go('pairs')
    await page.getByLabel('Sync process', { exact: true }).selectOption({ label: adoptName })
    await page.getByText('No entity pairs yet').waitFor()
    await button('Adopt existing pairs…').click()
    const dialog = page.getByRole('dialog', { name: 'Adopt existing pairs' })
    // The fields come from each system's schema, as in the process editor.
    await choose(dialog.getByLabel('Field in E2E Support ADA', { exact: true }), 'title')
    await choose(dialog.getByLabel('Field in E2E Engineering ADB', { exact: true }), 'title')
    await dialog.getByRole('button', { name: 'Dry run', exact: true }).click()
    const dry = dialog.getByTestId('adopt-dry-run')
    await dry.waitFor({ timeout: 60_000 })
    const toAdopt = dry.getByRole('table', { name: 'Pairs to adopt' }).locator('tbody tr')
    for (const i of [0, 1]) await toAdopt.filter({ hasText: keysA[i] }).filter({ hasText: keysB[i] }).waitFor()
    if ((await toAdopt.count()) !== 2) throw new Error(`the dry run would adopt ${await toAdopt.count()} pairs, want 2`)
    const ambiguous = await dry.getByRole('table', { name: 'Ambiguous matches' }).locator('tbody tr').allInnerTexts()
    if (ambiguous.length !== 1 || ![keysA[2], keysA[3], keysB[2]].every((k) => ambiguous[0].includes(k))) throw new Error(`ambiguous: ${ambiguous.join(' | ')}`)
    await dry.getByRole('region', { name: 'Unmatched in E2E Support ADA' }).getByText(adoptA[4]).waitFor()
    await dry.getByRole('region', { name: 'Unmatched in E2E Engineering ADB' }).getByText(adoptB[3]).waitFor()
    if ((await sandbox('GET', '/api/items?project=ADB&limit=100')).items.length !== adoptB.length) throw new Error('the dry run wrote to ADB')
    await shot('pairs-adopt-dry-run')
    await atSmallWindow('pairs-adopt-dry-run')
    await dialog.getByRole('button', { name: 'Adopt 2 pairs', exact: true }).click()
    await dialog.getByTestId('adopt-done').filter({ hasText: '2 pairs adopted' }).waitFor({ timeout: 60_000 })

    // One of the ambiguous ones, by key, from a CSV file; a line that names
    // nothing is a problem and adopts nothing.
    await dialog.getByRole('radio', { name: 'From a CSV of keys' }).check()
    const csv = `support,engineering\n${keysA[2]},${keysB[2]}\nADA-999,${keysB[3]}\n`
    await openNextFile('pairs.csv', csv)
    await dialog.getByRole('button', { name: 'Open a CSV file…' }).click()
    await page.waitForFunction((text) => document.querySelector('.modal textarea')?.value === text, csv)
    await dialog.getByRole('button', { name: 'Dry run', exact: true }).click()
    await dry.getByTestId('adopt-problems').filter({ hasText: 'line 3: no entity "ADA-999" in side A' }).waitFor({ timeout: 60_000 })
    await dialog.getByRole('button', { name: 'Adopt 1 pair', exact: true }).click()
    await dialog.getByTestId('adopt-done').filter({ hasText: '1 pair adopted' }).waitFor({ timeout: 60_000 })
    await shot('pairs-adopted')
    await dialog.locator('footer').getByRole('button', { name: 'Close', exact: true }).click()
    await dialog.waitFor({ state: 'detached' })
    const rows = page.locator('main table tbody tr')
    for (const i of [0, 1, 2]) await rows.filter({ hasText: keysA[i] }).filter({ hasText: keysB[i] }).waitFor()
    if ((await rows.count()) !== 3) throw new Error(`the pairs page shows ${await rows.count()} pairs of ${adoptName}, want 3`)
  }, ['items exist on both sides, and a process over them that has not paired them'])

  await step('the adopted pairs sync and nothing is copied twice; the process page shows its queue', async () => {
    await go('processes')
    await page.getByRole('button', { name: adoptName, exact: true }).click()
    await button('Activate').click()
    await button('Deactivate').waitFor()
    await until(`a run of ${adoptName}`, async () => !!(await newestRun(adoptName)))
    await page.getByTestId('queue-summary').waitFor()
    // What no pair holds is created (the unmatched, the badge reader left
    // ambiguous); what was adopted is not copied again.
    await until('the copies of what was not adopted', async () => (await sandbox('GET', '/api/items?project=ADB&limit=100')).items.length >= adoptB.length + 2)
    // A run that starts after the copies exist finds nothing more to copy.
    const copied = await newestRun(adoptName)
    await until(`a run of ${adoptName} after the copies`, async () => {
      const r = await newestRun(adoptName)
      return r && r.id !== copied?.id && r.endedAt
    })
    const { items } = await sandbox('GET', '/api/items?project=ADB&limit=100')
    const copies = (t) => items.filter((it) => it.title === t).length
    const want = { [adoptA[0]]: 1, [adoptA[1]]: 1, [adoptA[2]]: 2, [adoptA[4]]: 1, [adoptB[3]]: 1 }
    for (const [t, n] of Object.entries(want)) if (copies(t) !== n) throw new Error(`ADB has ${copies(t)} items titled ${t}, want ${n}`)
    if (items.length !== adoptB.length + 2) throw new Error(`ADB holds ${items.length} items, want ${adoptB.length + 2}`)
    await tallShot('process-queue')
  }, ['adopt existing pairs: a dry run matching titles, then adopt; one more from a CSV file'])

  await step('a conflict held for review: both values read live, resolved per field, the value reaches the other side', async () => {
    const [a, b] = [keysA[0], keysB[0]]
    // Both sides change the same field while the process is not running.
    await button('Deactivate').click()
    await button('Activate').waitFor()
    await sandbox('PATCH', `/api/items/${a}`, { priority: 'high' })
    await sandbox('PATCH', `/api/items/${b}`, { priority: 'low' })
    await button('Activate').click()
    await button('Deactivate').waitFor()
    await go('pairs')
    await page.getByLabel('Sync process', { exact: true }).selectOption({ label: adoptName })
    const row = page.locator('main table tbody tr').filter({ hasText: a })
    await row.filter({ hasText: 'Held for review' }).waitFor({ timeout: 60_000 })
    await row.getByRole('link', { name: 'Compare priority' }).click()
    const conflict = page.getByTestId('conflict')
    const priority = conflict.locator('tbody tr').filter({ hasText: 'priority' })
    await priority.getByTestId('value-a').filter({ hasText: 'high' }).waitFor()
    await priority.getByTestId('value-b').filter({ hasText: 'low' }).waitFor()
    await shot('pair-conflict')
    await atSmallWindow('pair-conflict')
    await conflict.getByRole('radiogroup', { name: 'Winner of priority' }).getByRole('radio', { name: 'E2E Support ADA' }).check()
    await conflict.getByRole('button', { name: 'Resolve 1 field…' }).click()
    // It says what goes before it writes anything.
    const ask = page.getByRole('dialog', { name: 'Resolve 1 field?' })
    const says = ask.getByRole('listitem').filter({ hasText: 'priority in E2E Engineering ADB' })
    await says.waitFor()
    const [now, becomes] = await says.locator('dd').allInnerTexts()
    if (now.trim() !== 'low' || !becomes.startsWith('high')) throw new Error(`the confirmation says priority goes from "${now}" to "${becomes}", want low to high`)
    await atSmallWindow('pair-conflict-confirm')
    await ask.getByRole('button', { name: 'Resolve 1 field', exact: true }).click()
    await ask.waitFor({ state: 'detached' })
    // The choice shows until the next run writes it (which may come first).
    await conflict
      .getByText("E2E Support ADA's value, on the next run")
      .or(page.getByTestId('pair-status').filter({ hasText: 'In sync.' }))
      .first()
      .waitFor({ timeout: 60_000 })
    await until(`${b} taking the priority chosen from ${a}`, async () => (await sandbox('GET', `/api/items/${b}`)).priority === 'high')
    // The page follows the run that wrote it.
    await page.getByTestId('pair-status').filter({ hasText: 'In sync.' }).waitFor({ timeout: 60_000 })
    if ((await sandbox('GET', `/api/items/${a}`)).priority !== 'high') throw new Error(`${a} lost its priority`)
    await shot('pair-resolved')
    // From here on the journey's failures are the first process's own.
    await page.evaluate(async (name) => {
      const app = window.go.bridge.App
      const { processes } = await app.Call('processes.list', {})
      await app.Call('processes.deactivate', { id: processes.find((s) => s.process.name === name).process.id })
    }, adoptName)
  }, ['the adopted pairs sync and nothing is copied twice; the process page shows its queue'])
}
