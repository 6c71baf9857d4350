// Package e2e holds end-to-end tests that run the real agent binary and talk
// to it through the desktop app's client, as an administrator's app would.
package e2e
