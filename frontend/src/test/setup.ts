import '@testing-library/jest-dom/vitest'
import { cleanup, configure } from '@testing-library/react'
import { afterEach } from 'vitest'

// Vitest runs without globals, so Testing Library cannot register its own cleanup.
afterEach(() => cleanup())

// The build machine is shared and busy; waiting longer for the UI to settle
// makes no test weaker, it only stops slow runs from failing.
configure({ asyncUtilTimeout: 5000 })
