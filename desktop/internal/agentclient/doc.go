// Package agentclient is the desktop app's connection to one agent: a
// WebSocket over TLS pinned to the agent's key (PROTOCOL.md), JSON-RPC calls
// typed by the descriptors in shared/protocol, live log and event
// subscriptions, and automatic reconnection that resumes the session and the
// subscriptions, so the UI sees a connection that heals itself.
//
// Concurrency model (gorilla/websocket allows one reader and one writer per
// connection): every connection has exactly one reader goroutine and one
// writer goroutine fed by a bounded queue; a supervisor goroutine per Client
// reconnects; a dispatcher goroutine per Client runs notification handlers
// and state listeners in order, so a slow handler never stalls the reader
// (and with it, every call's response).
//
// Calls made while the connection is down wait for the reconnection until
// their context ends; they fail at once when reconnecting has stopped
// (ErrSessionExpired, *FingerprintMismatchError) or the client is closed
// (ErrClosed). A call in flight when the connection drops fails with
// ErrConnectionLost and is never re-sent, because it may have run.
package agentclient
