// The pair lifecycle part of the UI journey (run.mjs calls pairsJourney),
// taken by hand after the journey's first process has synced: a deleted
// incident's pair and its ways out; items that exist on both sides adopted
// (a dry run matching titles, then a CSV of keys) and synced without a copy
// twice, with the process's queue shown; a conflict held for review,
// resolved field by field after the confirmation says which value goes;
// then repairs by hand on a process of their own: a relink (the dialog
// names the pairs that go and the entities left out), unpairing a selection
// from the pairs page, and recreating a deleted pair's missing side, each
// checked on the agent and in the sandbox too (the pairs it keeps, nothing
// written to or copied again from what it excluded, the new copy).

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

  // createProcess makes a process from incidents in project a of E2E
  // Support to bugs in project b of E2E Engineering (title and priority both
  // ways, new ones created in B only, polled every 5 s) through the API: the
  // journey's editor step made the first process.
  const createProcess = (name, a, b, conflict, activate = false) =>
    page.evaluate(
      async ({ name, a, b, conflict, activate }) => {
        const app = window.go.bridge.App
        const { systems } = await app.Call('systems.list', {})
        const id = (n) => systems.find((s) => s.name === n).id
        const { process } = await app.Call('processes.create', {
          process: {
            name,
            a: { system: id('E2E Support'), project: a },
            b: { system: id('E2E Engineering'), project: b },
            types: [{ a: 'incident', b: 'bug', fields: [{ a: 'title', b: 'title', direction: 'both' }, { a: 'priority', b: 'priority', direction: 'both' }] }],
            options: { createInA: false, createInB: true, comments: true, attachments: true, writePeerKey: true, conflict },
            schedule: { pollSeconds: 5 },
            active: false,
          },
        })
        if (activate) await app.Call('processes.activate', { id: process.id })
      },
      { name, a, b, conflict, activate },
    )

  // deactivate stops a process through the API, so that from then on the
  // journey's failures are the first process's own.
  const deactivate = (name) =>
    page.evaluate(async (name) => {
      const app = window.go.bridge.App
      const { processes } = await app.Call('processes.list', {})
      await app.Call('processes.deactivate', { id: processes.find((s) => s.process.name === name).process.id })
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
    await createProcess(adoptName, 'ADA', 'ADB', 'hold')
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
    await deactivate(adoptName)
  }, ['the adopted pairs sync and nothing is copied twice; the process page shows its queue'])

  // Repairs by hand, on a process of their own (five incidents copied as
  // bugs) so that they need nothing of the steps above.
  const repairName = 'E2E repaired pairs'
  const repairTitles = ['printer smokes', 'mail bounces', 'disk full', 'fan is loud', 'screen flickers'].map((t) => `E2E repair: ${t}`)
  const ra = [] // the incidents' keys in REA, in the order of repairTitles
  const peer = {} // an incident's key -> its bug's key in REB, as first paired
  const repairReady = 'a process of its own pairs five incidents, for repairs by hand'
  // agentPairs is what the agent pairs in the repair process now.
  const agentPairs = () =>
    page.evaluate(async (name) => {
      const app = window.go.bridge.App
      const { processes } = await app.Call('processes.list', {})
      const s = (processes ?? []).find((x) => x.process.name === name)
      return (await app.Call('pairs.list', { process: s.process.id, limit: 500 })).pairs ?? []
    }, repairName)
  const bugs = async () => (await sandbox('GET', '/api/items?project=REB&limit=100')).items
  const versions = async () => Object.fromEntries((await bugs()).map((b) => [b.key, b.version]))
  // keyed matches a key in a row's text, where cells run together
  // ("incidentREB-2"): REA-1, not REA-10.
  const keyed = (key) => new RegExp(`${key}(?!\\d)`)
  // rowOf is the pairs table's row naming an entity's key.
  const rowOf = (key) => page.locator('main table tbody tr').filter({ hasText: keyed(key) })
  const showRepairPairs = async () => {
    await go('pairs')
    await page.getByLabel('Sync process', { exact: true }).selectOption({ label: repairName })
  }
  const toast = (text) => page.getByRole('status').getByText(text, { exact: true }).waitFor()
  // runAfter waits for a run of the repair process that started after now
  // and has ended: one that saw every change made before it.
  const runAfter = async (what) => {
    const since = Date.now()
    await until(`a run of ${repairName} after ${what}`, async () => {
      const r = await newestRun(repairName)
      return r?.endedAt && Date.parse(r.startedAt) > since
    })
  }
  // flowsThenNothingElse changes a paired incident's priority, waits until
  // its bug has it and for a run after that, then checks that REB holds no
  // more bugs than incidents were paired (nothing was copied again) and
  // that none of the bugs left out was written to since `before`.
  async function flowsThenNothingElse(paired, bug, leftOut, before) {
    await sandbox('PATCH', `/api/items/${paired}`, { priority: 'high' })
    await until(`${bug} taking ${paired}'s new priority`, async () => (await sandbox('GET', `/api/items/${bug}`)).priority === 'high')
    await runAfter(`${bug} took it`)
    const now = await bugs()
    if (now.length !== ra.length) throw new Error(`REB holds ${now.length} bugs, want ${ra.length}: something left out of sync was copied again (${now.map((b) => `${b.key} ${b.title}`).join('; ')})`)
    for (const k of leftOut) {
      const v = now.find((b) => b.key === k)?.version
      if (v !== before[k]) throw new Error(`${k} was written to after it was left out of sync (version ${before[k]} -> ${v})`)
    }
  }
  // audited says whether the audit has a record of action naming every key.
  const audited = (action, keys) =>
    page.evaluate(
      async ({ action, keys }) => {
        const { records } = await window.go.bridge.App.Call('audit.list', { action, limit: 50 })
        return (records ?? []).some((r) => keys.every((k) => r.target.includes(k)))
      },
      { action, keys },
    )

  await step(repairReady, async () => {
    await sandbox('POST', '/api/projects', { key: 'REA', name: 'Repair support', types: ['incident'] })
    await sandbox('POST', '/api/projects', { key: 'REB', name: 'Repair engineering', types: ['bug'] })
    for (const title of repairTitles) ra.push((await sandbox('POST', '/api/items', { project: 'REA', type: 'incident', title, priority: 'medium' })).key)
    await createProcess(repairName, 'REA', 'REB', 'a_wins', true)
    const pairs = await until(`the ${ra.length} pairs of ${repairName}, in step`, async () => {
      const ps = await agentPairs()
      return ps.length === ra.length && ps.every((p) => p.state === 'synced') && ps
    }, 90_000)
    for (const p of pairs) peer[p.a.key] = p.b.key
    if (!ra.every((k) => peer[k])) throw new Error(`not every incident is paired: ${JSON.stringify(peer)}`)
  }, [j.systemsReady])

  await step('relink: the dialog names the pairs that go and what is left out; the agent pairs the two, and neither copies nor writes what it left out', async () => {
    const [a1, a2] = [ra[0], ra[1]]
    const [c1, c2] = [peer[a1], peer[a2]]
    const before = await versions()
    await showRepairPairs()
    await page.getByRole('checkbox', { name: `Select ${a1} ↔ ${c1}`, exact: true }).check()
    await button(`Relink ${a1} ↔ ${c1}…`).click()
    const dialog = page.getByRole('dialog', { name: 'Relink two entities' })
    const inA = await dialog.getByLabel('Entity in E2E Support REA', { exact: true }).inputValue()
    if (inA !== a1) throw new Error(`the relink of ${a1} ↔ ${c1} starts with "${inA}" in side A`)
    // Pair the first incident with the bug copied from the second.
    await dialog.getByLabel('Entity in E2E Engineering REB', { exact: true }).fill(c2)
    await dialog.getByRole('button', { name: 'Relink', exact: true }).click()
    // Before anything is written: both pairs go, and each leaves an entity out.
    const removes = dialog.getByRole('list', { name: 'Pairs relinking removes' }).getByRole('listitem')
    await removes.first().waitFor()
    const said = (await removes.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim())
    const want = [
      `${a1} ↔ ${c1} goes; ${c1} (${repairTitles[0]}) is excluded from sync until you relink it.`,
      `${a2} ↔ ${c2} goes; ${a2} (${repairTitles[1]}) is excluded from sync until you relink it.`,
    ]
    if (said.length !== 2 || !want.every((w) => said.includes(w))) throw new Error(`the relink says it removes:\n  ${said.join('\n  ')}\nwant:\n  ${want.join('\n  ')}`)
    if ((await versions())[c1] !== before[c1] || (await agentPairs()).length !== ra.length) throw new Error('looking up what a relink removes changed something')
    await shot('pairs-relink-lookup')
    await atSmallWindow('pairs-relink-lookup')
    await dialog.getByRole('button', { name: 'Relink and remove 2 pairs', exact: true }).click()
    await dialog.waitFor({ state: 'detached' })
    await toast(`${a1} ↔ ${c2} are paired. Excluded from sync until relinked: ${c1}, ${a2}.`)
    await rowOf(a1).filter({ hasText: keyed(c2) }).waitFor()
    for (const k of [a2, c1]) await rowOf(k).waitFor({ state: 'detached' })

    // The agent: the new pair, neither old one, and the relink audited.
    const ps = await agentPairs()
    if (!ps.some((p) => p.a.key === a1 && p.b.key === c2 && p.state === 'synced')) throw new Error(`the agent does not pair ${a1} with ${c2}`)
    if (ps.some((p) => p.a.key === a2 || p.b.key === c1)) throw new Error(`the agent still pairs ${a2} or ${c1}`)
    if (!(await audited('pairs.relink', [a1, c2]))) throw new Error(`the audit has no pairs.relink of ${a1} and ${c2}`)
    // The left-out incident changes: it is not copied again; the new pair's changes flow.
    await sandbox('PATCH', `/api/items/${a2}`, { priority: 'critical' })
    await flowsThenNothingElse(a1, c2, [c1], before)
    if ((await agentPairs()).some((p) => p.a.key === a2 || p.b.key === c1)) throw new Error(`a run paired ${a2} or ${c1} again`)
  }, [repairReady])

  await step('unpair a selection from the pairs page: the agent drops both pairs, and nothing of them is synced or copied again', async () => {
    const [a3, a4, a5] = [ra[2], ra[3], ra[4]]
    const [c3, c4, c5] = [peer[a3], peer[a4], peer[a5]]
    const before = await versions()
    await showRepairPairs()
    for (const k of [a3, a4]) await page.getByRole('checkbox', { name: `Select ${k} ↔ ${peer[k]}`, exact: true }).check()
    await page.getByRole('toolbar', { name: 'Pair actions' }).getByText('2 pairs selected').waitFor()
    await button('Unpair 2 pairs…').click()
    const ask = page.getByRole('dialog', { name: 'Unpair 2 pairs?' })
    const listed = await ask.getByRole('list', { name: 'Pairs to unpair' }).getByRole('listitem').allInnerTexts()
    if (listed.length !== 2 || ![`${a3} ↔ ${c3}`, `${a4} ↔ ${c4}`].every((l) => listed.some((t) => t.startsWith(l)))) throw new Error(`the question lists: ${listed.join(' | ')}`)
    await shot('pairs-unpair-selection')
    await ask.getByRole('button', { name: 'Unpair 2 pairs', exact: true }).click()
    await ask.waitFor({ state: 'detached' })
    await toast('2 pairs unpaired; their entities are excluded from sync until relinked.')
    for (const k of [a3, a4]) await rowOf(k).waitFor({ state: 'detached' })
    await rowOf(a5).waitFor()

    const ps = await agentPairs()
    const kept = [a3, a4, c3, c4].filter((k) => ps.some((p) => p.a.key === k || p.b.key === k))
    if (kept.length) throw new Error(`the agent still pairs ${kept.join(', ')}`)
    for (const k of [a3, a4]) if (!(await audited('pairs.unpair', [k, peer[k]]))) throw new Error(`the audit has no pairs.unpair of ${k}`)
    // Both sides of the unpaired change: nothing flows, nothing is copied.
    for (const k of [a3, a4]) await sandbox('PATCH', `/api/items/${k}`, { priority: 'critical' })
    await sandbox('PATCH', `/api/items/${c3}`, { priority: 'low' })
    before[c3] = (await sandbox('GET', `/api/items/${c3}`)).version
    await flowsThenNothingElse(a5, c5, [c3, c4], before)
    for (const k of [a3, a4]) {
      const p = (await sandbox('GET', `/api/items/${k}`)).priority
      if (p !== 'critical') throw new Error(`${k} is ${p}: a change of its old peer reached it`)
    }
    const again = (await agentPairs()).filter((p) => [a3, a4].includes(p.a.key) || [c3, c4].includes(p.b.key))
    if (again.length) throw new Error(`a run paired them again: ${again.map((p) => `${p.a.key} ↔ ${p.b.key}`).join(', ')}`)
  }, [repairReady])

  await step("recreate a deleted pair's missing side from the pair's page: the next run copies the survivor again and pairs the copy", async () => {
    const a5 = ra[4]
    const c5 = peer[a5]
    await sandbox('DELETE', `/api/items/${c5}`)
    await showRepairPairs()
    const row = rowOf(a5)
    await row.filter({ hasText: 'Deleted' }).waitFor({ timeout: 60_000 })
    await row.getByRole('link', { name: a5, exact: true }).click()
    await page.getByRole('heading', { level: 1 }).filter({ hasText: `${a5} ↔ ${c5}` }).waitFor()
    const ways = page.getByTestId('ways-out')
    await ways.getByRole('radio', { name: new RegExp(`^Recreate ${c5} Removes the pair`) }).check()
    await shot('pair-recreate')
    await ways.getByRole('button', { name: `Recreate ${c5}`, exact: true }).click()
    await toast(`${c5} will be recreated from ${a5} on the next run.`)

    // The agent makes a new bug from the incident as it is now, and pairs it.
    const np = await until(`a new pair of ${a5}`, async () => (await agentPairs()).find((p) => p.a.key === a5 && p.b.key && p.b.key !== c5 && p.state === 'synced'))
    const [incident, copy] = await Promise.all([sandbox('GET', `/api/items/${a5}`), sandbox('GET', `/api/items/${np.b.key}`)])
    if (copy.project !== 'REB' || copy.type !== 'bug' || copy.title !== incident.title || copy.priority !== incident.priority) {
      throw new Error(`${np.b.key} is a ${copy.type} in ${copy.project}, "${copy.title}" ${copy.priority}; want a bug in REB, "${incident.title}" ${incident.priority}`)
    }
    await runAfter(`${np.b.key} was made`)
    const copies = (await bugs()).filter((b) => b.title === incident.title && b.key !== c5)
    if (copies.length !== 1) throw new Error(`REB has ${copies.length} live copies of ${a5}: ${copies.map((b) => b.key).join(', ')}`)
    if (!(await audited('pairs.recreate', [a5, c5]))) throw new Error(`the audit has no pairs.recreate of ${a5}`)
    await showRepairPairs()
    await rowOf(a5).filter({ hasText: keyed(np.b.key) }).filter({ hasText: 'Synced' }).waitFor()
    await shot('pairs-repaired')
    await deactivate(repairName)
  }, [repairReady])
}
