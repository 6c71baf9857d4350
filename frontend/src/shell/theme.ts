import { useCallback, useEffect, useState } from 'react'

export type Theme = 'system' | 'light' | 'dark'
const key = 'lockstep.theme'

function stored(): Theme {
  try {
    const v = window.localStorage.getItem(key)
    return v === 'light' || v === 'dark' ? v : 'system'
  } catch {
    return 'system'
  }
}

// useTheme follows the system colour scheme until the user picks one; the
// choice is kept in local storage and applied as data-theme on <html>.
export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(stored)
  useEffect(() => {
    const root = document.documentElement
    if (theme === 'system') delete root.dataset.theme
    else root.dataset.theme = theme
    try {
      if (theme === 'system') window.localStorage.removeItem(key)
      else window.localStorage.setItem(key, theme)
    } catch {
      /* storage unavailable: the choice lasts for this window only */
    }
  }, [theme])
  const cycle = useCallback(() => setTheme((t) => (t === 'system' ? 'light' : t === 'light' ? 'dark' : 'system')), [])
  return [theme, cycle]
}
