// make bench-ui: how the live log's virtual list behaves with 100,000 lines,
// measured in real headless Chromium on the real UI build, behind the
// browser-test harness and its real Go bridge, signed in to a real agent
// (build/ui-test.sh starts them and exports where they are).
//
// The lines reach the page as the bridge delivers them: logs:batch events
// of at most 200 lines, on the subscription the Live logs page opened with
// the agent. An agent does not log 100,000 lines in a bench's time, so the
// batches are emitted into the page's Wails runtime (the harness's shim
// delivers them to the page's listeners as it does the bridge's own), each
// in a task of its own, as fast as the page takes them.
//
// It prints values measured in this one run, never a pass or a fail: frame
// intervals (requestAnimationFrame to requestAnimationFrame) and long
// animation frames (over 50 ms, Chromium's own account) while the lines
// arrive and while the list is scrolled by the mouse wheel and by jumps of
// the scroll bar, with 1,000 lines and with 100,000, and their ratio; the
// renderer's main-thread CPU time and the elements the list creates and
// moves per frame (its work, which the machine's load does not change); and
// the page's frames while it does nothing.
import { writeFileSync } from 'node:fs'
import { chromium } from 'playwright-core'

const env = (k) => {
  const v = process.env[k]
  if (v === undefined) {
    console.error(`bench-logs: ${k} is not set; run this through build/ui-test.sh (make bench-ui)`)
    process.exit(2)
  }
  return v
}
const harnessURL = env('LOCKSTEP_HARNESS_URL')
const agentURL = env('LOCKSTEP_AGENT_URL')
const fingerprint = env('LOCKSTEP_AGENT_FINGERPRINT')
const adminUser = process.env.LOCKSTEP_ADMIN_USER ?? 'admin'
const adminPassword = env('LOCKSTEP_ADMIN_PASSWORD')
const lines = Number(process.env.BENCH_LOG_LINES ?? 100_000)
const baselineLines = 1_000
const batch = 200 // the bridge's largest logs:batch

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const page = await browser.newPage({ viewport: { width: 1360, height: 860 } })
page.setDefaultTimeout(60_000)
const pageErrors = []
page.on('pageerror', (e) => pageErrors.push(String(e)))

// inPage is installed in the page: the frame recorder and the line feeder.
function inPage() {
  const w = window
  w.__bench = {
    subs: new Set(),
    // frames records rAF intervals and long animation frames until stop().
    record() {
      const rec = { intervals: [], slow: [], long: [], last: 0, on: true, created: 0, moved: 0 }
      // A mark in Chromium's trace (BENCH_TRACE) ties the page's clock to
      // the trace's.
      const markName = `bench-record-${(w.__bench.marks = (w.__bench.marks ?? 0) + 1)}`
      const mark = performance.mark(markName).startTime
      // Elements the list creates, and elements it moves (inserted again
      // where they were already): counts of its work that the machine's load
      // does not change.
      const view = document.querySelector('[role="log"]')
      const seen = new WeakSet(view ? view.querySelectorAll('*') : [])
      const mo = new MutationObserver((ms) => {
        for (const m of ms) {
          for (const n of m.addedNodes) {
            if (n.nodeType !== 1) continue
            if (seen.has(n)) rec.moved++
            for (const el of [n, ...n.querySelectorAll('*')]) {
              if (!seen.has(el)) rec.created++
              seen.add(el)
            }
          }
        }
      })
      if (view) mo.observe(view, { childList: true, subtree: true })
      const tick = (t) => {
        if (!rec.on) return
        if (rec.last) rec.intervals.push(t - rec.last)
        if (rec.last && t - rec.last > 50) rec.slow.push([rec.last, t])
        rec.last = t
        requestAnimationFrame(tick)
      }
      requestAnimationFrame(tick)
      try {
        rec.obs = new PerformanceObserver((l) => {
          for (const e of l.getEntries()) rec.long.push(e.duration)
        })
        rec.obs.observe({ type: 'long-animation-frame' })
      } catch {
        rec.long = null // not supported by this browser
      }
      return () => {
        rec.on = false
        rec.obs?.disconnect()
        mo.disconnect()
        return { intervals: rec.intervals, slow: rec.slow, mark, markName, long: rec.long, created: rec.created, moved: rec.moved }
      }
    },
    // feed emits n lines as logs:batch events on sub, a batch per task.
    feed(sub, n, size, from) {
      const procs = ['3f2a9c0d1e4b5a67', '9b8c7d6e5f4a3b21', 'a1b2c3d4e5f60718']
      const systems = ['ce9aa139b03af4a0', '6a0f71fc76b1de69']
      const messages = ['synced with its peer', 'updated entity', 'copied comment', 'copied attachment', 'run finished']
      const line = (i) => ({
        time: new Date(Date.UTC(2027, 0, 1) + i * 7).toISOString(),
        level: i % 97 === 0 ? 'warn' : 'info',
        component: 'sync',
        message: messages[i % messages.length],
        fields: {
          process: procs[i % procs.length],
          run: `${procs[i % procs.length]}-${Math.floor(i / 50)}`,
          system: systems[i % systems.length],
          entity_id: String(i),
          entity_key: `HELP-${i}`,
          entity_title: `Bench line ${i}: printer on floor ${i % 12} prints blank pages`,
        },
      })
      return new Promise((done) => {
        let sent = 0
        const next = () => {
          if (sent >= n) {
            done()
            return
          }
          const k = Math.min(size, n - sent)
          const out = new Array(k)
          for (let j = 0; j < k; j++) out[j] = line(from + sent + j)
          sent += k
          w.runtime.EventsEmit('logs:batch', { sub, profile: 'agent', lines: out, dropped: 0 })
          setTimeout(next, 0)
        }
        next()
      })
    },
  }
  // The page's subscription id, from the agent's own batches (read before
  // any line is fed).
  w.runtime.EventsOn('logs:batch', (b) => b?.sub && w.__bench.subs.add(b.sub))
}

function stats(intervals) {
  const s = [...intervals].sort((a, b) => a - b)
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN)
  return { frames: s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: s.length ? s[s.length - 1] : NaN, over50: s.filter((x) => x > 50).length }
}
// cpu is the renderer's main-thread CPU time in ms (Chromium's ThreadTime
// metric): what the page's work costs, however long the machine makes it
// wait for a core.
let perf = null
async function cpu() {
  if (!perf) {
    perf = await page.context().newCDPSession(page)
    await perf.send('Performance.enable')
  }
  const { metrics } = await perf.send('Performance.getMetrics')
  const t = metrics.find((m) => m.name === 'ThreadTime')
  return t ? t.value * 1000 : NaN
}
let cpuStart = 0
const record = async () => {
  cpuStart = await cpu()
  await page.evaluate(() => (window.__stopRec = window.__bench.record()) && true)
}
const stop = async () => {
  const r = await page.evaluate(() => window.__stopRec())
  const used = (await cpu()) - cpuStart
  return { ...stats(r.intervals), slow: r.slow, mark: r.mark, markName: r.markName, long: r.long === null ? null : r.long.length, longMax: r.long?.length ? Math.max(...r.long) : 0, created: r.created, moved: r.moved, cpu: used }
}

// BENCH_TRACE=FILE records Chromium's performance trace while the list of
// 100,000 lines is scrolled, writes it to FILE (open it in DevTools'
// Performance panel) and explains each frame interval over 50 ms by what
// the page's main thread did in it: busy (in tasks) against its CPU time in
// them (a task that took longer than its CPU time waited for a core), and
// within, garbage collection, script, style and layout, paint.
const traceCategories = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'disabled-by-default-v8.gc', 'blink.user_timing', 'blink', 'cc']
const kinds = {
  gc: /^(MajorGC|MinorGC|V8\.GC|BlinkGC\.|CppGC)/,
  script: /^(FunctionCall|EventDispatch|FireAnimationFrame|TimerFire|EvaluateScript|v8\.callFunction|v8\.run)$/,
  layout: /^(UpdateLayoutTree|Layout|RecalculateStyles|ScheduleStyleRecalculation)$/,
  paint: /^(Paint|PrePaint|Layerize|Commit|PaintImage|UpdateLayer|CompositeLayers)$/,
}
// covered is how much of [a, b) the spans cover, each instant once.
function covered(spans, a, b) {
  const s = spans
    .map(([x, y]) => [Math.max(a, x), Math.min(b, y)])
    .filter(([x, y]) => y > x)
    .sort((p, q) => p[0] - q[0])
  let total = 0
  let end = a
  for (const [x, y] of s) {
    if (y <= end) continue
    total += y - Math.max(x, end)
    end = y
  }
  return total
}
function explainSlow(events, f) {
  const mark = events.find((e) => e.name === f.markName && String(e.cat).includes('user_timing'))
  if (!mark) return null
  // The mark is made on the page's main thread; trace times are in µs.
  const main = events.filter((e) => e.pid === mark.pid && e.tid === mark.tid && e.ph === 'X')
  const toMs = (e) => [e.ts / 1000, (e.ts + e.dur) / 1000]
  const offset = mark.ts / 1000 - f.mark
  const tasks = main.filter((e) => String(e.cat).split(',').includes('toplevel'))
  const by = Object.fromEntries(Object.entries(kinds).map(([k, re]) => [k, main.filter((e) => re.test(e.name)).map(toMs)]))
  return f.slow.map(([a0, b0]) => {
    const a = a0 + offset
    const b = b0 + offset
    let cpu = 0
    for (const t of tasks) {
      const [x, y] = toMs(t)
      const inside = Math.min(b, y) - Math.max(a, x)
      if (inside > 0 && t.tdur !== undefined && t.dur > 0) cpu += (t.tdur / 1000) * (inside / (t.dur / 1000))
    }
    const out = { interval: b - a, busy: covered(tasks.map(toMs), a, b), cpu }
    for (const k of Object.keys(kinds)) out[k] = covered(by[k], a, b)
    return out
  })
}
async function traced(fn) {
  const file = process.env.BENCH_TRACE
  if (!file) return [await fn(), null]
  await browser.startTracing(page, { categories: traceCategories })
  const result = await fn()
  const buf = await browser.stopTracing()
  writeFileSync(file, buf)
  return [result, JSON.parse(buf.toString()).traceEvents ?? []]
}

const logView = page.getByRole('log', { name: 'Log lines' })
const kept = async () => Number((await page.getByTestId('log-status').innerText()).match(/of ([\d,]+) lines kept/)[1].replace(/,/g, ''))

// wheel scrolls the list up from the bottom with the mouse wheel, then down
// again: real input events, as a person scrolls.
async function wheel(ticks) {
  const b = await logView.boundingBox()
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2)
  await record()
  for (let i = 0; i < ticks; i++) await page.mouse.wheel(0, -400)
  for (let i = 0; i < ticks; i++) await page.mouse.wheel(0, 400)
  return stop()
}

// jumps moves the list as a dragged scroll bar does: a far position each
// frame, across the whole list.
async function jumps(count) {
  await record()
  await page.evaluate(
    (count) =>
      new Promise((done) => {
        const el = document.querySelector('[role="log"]')
        let i = 0
        const step = () => {
          if (i >= count) return done()
          // A spread of positions, not a sweep in one direction.
          el.scrollTop = ((i * 7919) % count) * ((el.scrollHeight - el.clientHeight) / count)
          i++
          requestAnimationFrame(step)
        }
        requestAnimationFrame(step)
      }),
    count,
  )
  return stop()
}

// idle records n frames of the page doing nothing: the machine's own
// long frames, the control for the others.
async function idle(n) {
  await record()
  await page.evaluate(
    (n) =>
      new Promise((done) => {
        let i = 0
        const step = () => (++i >= n ? done() : requestAnimationFrame(step))
        requestAnimationFrame(step)
      }),
    n,
  )
  return stop()
}

// fill clears the page's list and delivers n lines, measuring the frames
// while they arrive; it returns when the page shows them kept.
async function fill(sub, n) {
  await page.getByRole('button', { name: 'Clear', exact: true }).click()
  await record()
  const started = performance.now()
  await page.evaluate(([sub, n, size]) => window.__bench.feed(sub, n, size, 0), [sub, n, batch])
  await page.waitForFunction((n) => {
    const m = document.querySelector('[data-testid="log-status"]')?.textContent?.match(/of ([\d,]+) lines kept/)
    return m && Number(m[1].replace(/,/g, '')) >= n
  }, n)
  const ms = performance.now() - started
  const frames = await stop()
  return { ms, frames }
}

let status = 0
try {
  await page.goto(harnessURL)
  await page.waitForFunction(() => window.go?.bridge?.App && window.runtime)
  await page.evaluate(inPage)
  // Signed in to the agent through the bridge, as the Agents page does.
  await page.evaluate(
    async ([url, fingerprint, user, password]) => {
      const app = window.go.bridge.App
      await app.SaveProfile({ name: 'agent', url, fingerprint })
      await app.Connect('agent')
      await app.Login(user, password)
    },
    [agentURL, fingerprint, adminUser, adminPassword],
  )
  await page.goto(new URL('#/logs', harnessURL).toString())
  await page.getByTestId('log-row').first().waitFor()
  const sub = await page.waitForFunction(() => (window.__bench.subs.size === 1 ? [...window.__bench.subs][0] : null)).then((h) => h.jsonValue())

  const still = await idle(180)
  const base = await fill(sub, baselineLines)
  const baseWheel = await wheel(40)
  const baseJumps = await jumps(120)

  // BENCH_PROFILE=FILE writes a CPU profile of the page while the lines
  // arrive (open it in Chromium's DevTools), for finding what a frame costs.
  const cdp = process.env.BENCH_PROFILE ? await page.context().newCDPSession(page) : null
  if (cdp) {
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.start')
  }
  const big = await fill(sub, lines)
  if (cdp) writeFileSync(process.env.BENCH_PROFILE, JSON.stringify((await cdp.send('Profiler.stop')).profile))
  const inList = await kept()
  // Still pinned to the newest line after the flood (following is not lost
  // when lines come faster than frames).
  const followed = await page.evaluate(() => {
    const el = document.querySelector('[role="log"]')
    return el.scrollTop + el.clientHeight >= el.scrollHeight - 44
  })
  const [[bigWheel, bigJumps], trace] = await traced(async () => [await wheel(40), await jumps(120)])
  const rows = await page.getByTestId('log-row').count()

  const ms = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'n/a')
  const ratio = (a, b) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a')
  const row = (name, value, note = '') => console.log(`${name.padEnd(64)} ${String(value).padStart(12)}  ${note}`)
  const frames = (what, f) => {
    row(`${what}: frames, p50 / p99`, `${f.frames}, ${ms(f.p50)} / ${ms(f.p99)}`)
    row(`${what}: longest frame interval`, ms(f.max), '(goal: none over 50 ms)')
    row(`${what}: frame intervals over 50 ms`, f.over50)
    row(`${what}: long animation frames (over 50 ms)`, f.long === null ? 'n/a' : `${f.long}${f.long ? `, longest ${ms(f.longMax)}` : ''}`, "(Chromium's own count)")
    row(`${what}: main-thread CPU per frame`, f.frames ? ms(f.cpu / f.frames) : 'n/a', '(its work, whatever the load)')
    row(`${what}: elements created / rows moved, per frame`, f.frames ? `${(f.created / f.frames).toFixed(1)} / ${(f.moved / f.frames).toFixed(1)}` : 'n/a', '(work, whatever the load)')
  }
  console.log(`\n== live log: ${lines.toLocaleString('en')} lines in the desktop's virtual list (headless Chromium)`)
  row('lines kept by the list', inList.toLocaleString('en'), `(rows in the DOM: ${rows})`)
  row('the list follows the newest line after the flood', followed ? 'yes' : 'no')
  row(`time until ${lines.toLocaleString('en')} lines are shown (batches of ${batch})`, ms(big.ms), `(${baselineLines.toLocaleString('en')} lines: ${ms(base.ms)})`)
  frames('while the lines arrive', big.frames)
  frames('scrolling by wheel', bigWheel)
  frames('scrolling by scroll-bar jumps', bigJumps)
  row(`wheel p99, ${lines.toLocaleString('en')} lines / ${baselineLines.toLocaleString('en')} lines`, ratio(bigWheel.p99, baseWheel.p99), '(goal ~1x: the list costs the same)')
  row(`jumps p99, ${lines.toLocaleString('en')} lines / ${baselineLines.toLocaleString('en')} lines`, ratio(bigJumps.p99, baseJumps.p99))
  row(`wheel longest, ${baselineLines.toLocaleString('en')} lines`, ms(baseWheel.max))
  row('the page idle: frames, p99 / longest', `${still.frames}, ${ms(still.p99)} / ${ms(still.max)}`, `(main-thread CPU per frame ${ms(still.cpu / still.frames)})`)
  row(`wheel: main-thread CPU per frame, ${lines.toLocaleString('en')} lines / ${baselineLines.toLocaleString('en')} lines`, ratio(bigWheel.cpu / bigWheel.frames, baseWheel.cpu / baseWheel.frames))
  if (trace) {
    console.log(`\n== frame intervals over 50 ms while scrolling ${lines.toLocaleString('en')} lines, from Chromium's trace (${process.env.BENCH_TRACE})`)
    console.log('interval   main thread busy  its CPU   GC   script  style+layout  paint  (ms)')
    for (const [what, f] of [
      ['wheel', bigWheel],
      ['jumps', bigJumps],
    ]) {
      const slow = explainSlow(trace, f)
      if (slow === null) {
        console.log(`${what}: the trace has no mark to align it with`)
        continue
      }
      for (const x of slow) {
        const n = (v) => v.toFixed(1).padStart(7)
        console.log(`${what.padEnd(6)}${n(x.interval)}  ${n(x.busy)}       ${n(x.cpu)}  ${n(x.gc)} ${n(x.script)} ${n(x.layout)}      ${n(x.paint)}`)
      }
    }
  }
  if (pageErrors.length) {
    console.log(`page errors:\n${pageErrors.join('\n')}`)
    status = 1
  }
} catch (e) {
  console.error(`bench-logs: ${e?.stack ?? e}`)
  status = 1
} finally {
  await browser.close()
}
process.exit(status)
