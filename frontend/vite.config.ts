/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

export default defineConfig({
  plugins: [react()],
  // Wails serves dist/ from its own origin (wails://, http://wails.localhost);
  // relative asset URLs resolve under every one of them.
  base: './',
  // The user map CSV reader's test reads the agent's golden files, which
  // both readers pass (pages/sync/usercsv.test.ts).
  server: { fs: { allow: ['.', '../agent/internal/mapping/testdata/usercsv'] } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    testTimeout: 20000,
  },
})
