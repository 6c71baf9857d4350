import { useEffect, useState } from 'react'
import { AppInfo } from '../wailsjs/go/bridge/App'
import type { bridge } from '../wailsjs/go/models'

export type Info = Pick<bridge.Info, 'name' | 'version'>
export type InfoLoader = () => Promise<Info>

// Outside the Wails window (vite dev in a browser, tests) window.go does not
// exist and the generated binding throws synchronously; the shell then simply
// shows no version instead of failing.
export function useAppInfo(load: InfoLoader = AppInfo): Info | null {
  const [info, setInfo] = useState<Info | null>(null)
  useEffect(() => {
    let live = true
    Promise.resolve()
      .then(load)
      .then((i) => live && setInfo(i))
      .catch(() => live && setInfo(null))
    return () => {
      live = false
    }
  }, [load])
  return info
}
