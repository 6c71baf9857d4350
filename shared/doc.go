// Package shared holds the wire types that the agent and the desktop app
// both import (protocol, apitype). It and its sub-packages import only the
// standard library, so either side can change its dependencies freely.
package shared
