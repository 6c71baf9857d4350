import '@testing-library/jest-dom/vitest'
import { cleanup, configure } from '@testing-library/react'
import { afterEach } from 'vitest'

// Vitest runs without globals, so Testing Library cannot register its own cleanup.
afterEach(() => cleanup())

// The build machine is shared and busy; waiting longer for the UI to settle
// makes no test weaker, it only stops slow runs from failing. Under load a
// whole test has taken almost 6 s, so one wait may take more than 5 s; 15 s
// stays inside the 20 s test timeout (vite.config.ts).
configure({ asyncUtilTimeout: 15000 })
